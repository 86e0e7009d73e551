"""WhatsApp as a `Channel`: the webhook (`GET/POST /whatsapp/webhook`), replies through
`POST {WHATSAPP_API_BASE_URL}/{version}/{WHATSAPP_PHONE_NUMBER_ID}/messages`, the 24-hour
window, the approved template for agents, and customers' files for the agent.

On while WHATSAPP_TOKEN is set (the settings refuse it without WHATSAPP_APP_SECRET); the
routes are always there and answer 404 while it is off.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import PurePosixPath

from aiohttp import web

from bot.appkeys import ENGINE
from bot.attachments import OutgoingFile, attachment_name, download_headers, sniff
from bot.channels.base import Capabilities
from bot.channels.meta.channel import MetaChannel
from bot.channels.meta.graph import GraphError
from bot.channels.meta.inbound import Stored
from bot.channels.telegram.files import FileLog
from bot.channels.whatsapp import deliveries, messages
from bot.errors import Conflict, Forbidden, NotFound, UpstreamFailed
from bot.handoff.api import authenticate
from bot.http_errors import json_error
from bot.inbound import Inbound
from bot.rasa_client import BotMessage
from bot.store import Conversation

log = logging.getLogger(__name__)

FILES_PATH = "/api/v1/agent/files/whatsapp/{media_id}"
TEMPLATE_PATH = "/api/v1/agent/tickets/{ticket}/whatsapp-template"
# Files an agent can open; anything else (a sticker, a contact card) is described only.
_FILES = {"image": "photo", "document": "document", "audio": "audio", "video": "video"}
# Graph API error: more than 24 hours since the customer last wrote.
REENGAGEMENT = 131047


class WhatsAppChannel(MetaChannel):
    name = "whatsapp"
    capabilities = Capabilities(
        buttons=True, max_text=messages.MAX_TEXT, files=True, pushes=True, files_out=True
    )

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.files: FileLog | None = None

    token = property(lambda self: self.settings.whatsapp_token)
    app_secret = property(lambda self: self.settings.whatsapp_app_secret)
    verify_token = property(lambda self: self.settings.whatsapp_verify_token)
    api_base_url = property(lambda self: self.settings.whatsapp_api_base_url)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/whatsapp/webhook", self.verify),
            web.post("/whatsapp/webhook", self.webhook),
            web.post(TEMPLATE_PATH, self.send_template),
            web.get(FILES_PATH, self.agent_file),
        ]

    async def start(self, app: web.Application) -> None:
        await super().start(app)
        if self.enabled:
            self.files = FileLog(app[ENGINE])

    # In ------------------------------------------------------------------------------

    async def accept(self, body: dict) -> None:
        assert self.intake is not None and self.outbound is not None
        incoming, statuses = deliveries.read(body, self.settings.whatsapp_phone_number_id)
        for message in incoming:
            await self.intake.receive(message)
        for status in statuses:
            await self.outbound.status(status.message_id, status.status, status.error)

    async def handle(self, stored: Stored) -> None:
        message = stored.payload["message"]
        wa_id = deliveries.wa_id_of(stored.sender) or ""
        text, kind = deliveries.text_of(message)
        inbound = self.inbound(
            wa_id, text, customer_name=stored.payload.get("name"), external_id=stored.message_id
        )
        if kind is None:
            if text.strip():
                await self.converse(inbound)
            return
        if kind in ("reaction", "system"):
            return  # an emoji on a message, a number change: nothing to answer
        await self._media(inbound, message, kind)

    async def _media(self, inbound: Inbound, message: dict, kind: str) -> None:
        assert self.services is not None and self.files is not None
        conversation = await self.services.store.conversation(inbound.sender)
        ticket = conversation and await self.services.handoff.active(conversation.id)
        media = message.get(kind) if isinstance(message.get(kind), dict) else {}
        media_id = str(media.get("id") or "")
        if not ticket or kind not in _FILES or not media_id:
            await self.answer_directly(
                replace(inbound, text=f"[{kind}]"),
                "utter_unsupported_media",
            )
            return
        # A person is helping: the file reaches them as a link in the transcript, which
        # opens only for the agent holding this conversation's ticket (FileLog).
        caption = f" {media['caption']}" if media.get("caption") else ""
        described = f"[{_FILES[kind]}] {FILES_PATH.format(media_id=media_id)}{caption}"
        said = replace(inbound, text=described)
        outcome = await self.services.gateway.handle(said)
        await self.files.record(
            conversation.id, inbound.external_id or "", media_id, media.get("filename")
        )
        thanks = await self.services.speaker.say("utter_media_sent_to_agent", outcome.language)
        await self.services.store.add_bot_messages(conversation.id, [thanks.text], outcome.language)
        await self.send(inbound.sender, [*outcome.messages, thanks], replying=True)

    # Out -----------------------------------------------------------------------------

    async def send_one(
        self, sender: str, message: BotMessage, *, from_agent: bool, replying: bool
    ) -> None:
        assert self.outbound is not None
        # A reply to what the customer just sent is inside the window by definition (even
        # when /delete_my_data has just erased the record of it).
        window = None if replying else await self.window(sender)
        if window is not None and not window.open(self.now()):
            row = await self.outbound.sending(sender, "text")
            reason = f"outside WhatsApp's 24-hour window ({window.closed_since()})"
            await self.outbound.failed(row, reason)
            raise Conflict(reason)
        to = deliveries.wa_id_of(sender) or ""
        for kind, body in messages.bodies(to, message):
            await self.record(sender, kind, self._messages_path, body)

    async def send_file(self, conversation: Conversation, file: OutgoingFile) -> None:
        """Uploaded to WhatsApp's media endpoint, then sent as an image, audio or document
        (inside the 24-hour window: the service checked it with `check_reachable`)."""
        assert self.graph is not None
        if self.intake is None:
            raise Conflict(
                "the WhatsApp channel is off (WHATSAPP_TOKEN): the file cannot reach them"
            )
        fields = {"messaging_product": "whatsapp", "type": file.kind}
        path = f"{self.settings.whatsapp_phone_number_id}/media"
        try:
            uploaded = await self.graph.upload(path, fields, file.name, file.content, file.kind)
            media_id = str(uploaded.get("id") or "")
            if not media_id:
                raise GraphError("the media upload gave no id")
            kind = messages.media_kind(file.kind, len(file.content))
            to = deliveries.wa_id_of(conversation.sender) or ""
            body = messages.media(to, kind, media_id, file.name, file.caption)
            await self.record(conversation.sender, kind, self._messages_path, body)
        except GraphError as error:
            raise UpstreamFailed(f"WhatsApp did not take the file: {error.message}") from None

    @property
    def _messages_path(self) -> str:
        return f"{self.settings.whatsapp_phone_number_id}/messages"

    async def check_reachable(self, conversation: Conversation) -> None:
        if self.intake is None:
            raise Conflict(
                "the WhatsApp channel is off (WHATSAPP_TOKEN): the reply cannot reach them"
            )
        window = await self.window(conversation.sender)
        if window.open(self.now()):
            return
        name = self.settings.whatsapp_template_name
        offer = (
            f"only the approved template {name!r} can be sent now: "
            f"POST {TEMPLATE_PATH} (the console's “send template”); their answer opens "
            "the window again"
            if name
            else "no approved template is configured (WHATSAPP_TEMPLATE_NAME), so wait "
            "until the customer writes again"
        )
        raise Conflict(
            f"not sent: the customer's 24-hour WhatsApp window {window.closed_since()}; {offer}"
        )

    async def send_template(self, request: web.Request) -> web.Response:
        """An agent sends the configured template to their ticket's WhatsApp customer."""
        agent = await authenticate(request)
        if self.services is None:
            return json_error(404, "the WhatsApp channel is off (WHATSAPP_TOKEN)")
        name = self.settings.whatsapp_template_name
        if not name:
            raise NotFound("no template configured: set WHATSAPP_TEMPLATE_NAME to an approved one")
        raw = request.match_info["ticket"]
        ticket = (
            await self.services.handoff.tickets.get(int(raw))
            if raw.isdigit() and len(raw) < 18
            else None
        )
        if ticket is None or not ticket.sender.startswith("whatsapp-"):
            raise NotFound(f"no WhatsApp ticket {raw[:40]!r}")
        if ticket.status != "assigned" or ticket.agent_id != agent.id:
            raise Conflict(f"ticket {ticket.id} is not yours to answer; claim it first")
        conversation = await self.services.store.conversation(ticket.sender)
        if conversation is None:
            raise NotFound("the customer was erased")
        body = messages.template(
            deliveries.wa_id_of(ticket.sender) or "", name, self.settings.whatsapp_template_language
        )
        try:
            await self.record(ticket.sender, "template", self._messages_path, body)
        except GraphError as error:
            raise UpstreamFailed(f"WhatsApp did not take the template: {error.message}") from None
        note = f"[WhatsApp template {name} sent by {agent.name}]"
        await self.services.store.add_bot_messages(conversation.id, [note], conversation.language)
        return web.json_response({"template": name, "sent": True}, status=201)

    async def agent_file(self, request: web.Request) -> web.Response:
        agent = await authenticate(request)
        if self.files is None or self.graph is None:
            raise NotFound("WhatsApp is not connected")
        media_id = request.match_info["media_id"]
        shared = await self.files.for_agent(media_id, agent.id)
        if shared is None:
            if await self.files.known(media_id):
                raise Forbidden(
                    "only the agent holding this customer's ticket can open their files"
                )
            raise NotFound("no customer sent a file with that id")
        try:
            found = await self.graph.get(media_id)
            url = found.get("url")
            if not isinstance(url, str) or not url:
                raise GraphError("the Graph API gave no URL for the file")
            content, _ = await self.graph.download(url)
        except GraphError as error:
            raise UpstreamFailed(f"WhatsApp did not give the file: {error.message}") from None
        kind = sniff(content)
        name = attachment_name(shared.file_name or PurePosixPath(url).name, kind, "file")
        return web.Response(body=content, headers=download_headers(kind, name))
