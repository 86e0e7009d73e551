"""Messenger and Instagram as `Channel`s: `messenger-<psid>` and `instagram-<igsid>`.

Both come through one webhook (`GET/POST /messenger/webhook`, the Messenger channel's
route), signed with MESSENGER_APP_SECRET; a delivery's `object` (`page`, `instagram`)
decides which channel stores it. Replies go to `POST {MESSENGER_API_BASE_URL}/{version}/
me/messages` with the page token. On while MESSENGER_PAGE_TOKEN is set.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from aiohttp import web

from bot.appkeys import CHANNELS
from bot.attachments import OutgoingFile
from bot.channels.base import Capabilities
from bot.channels.messenger import events, messages
from bot.channels.meta.channel import MetaChannel
from bot.channels.meta.graph import GraphError
from bot.channels.meta.inbound import Stored
from bot.errors import Conflict, UpstreamFailed
from bot.rasa_client import BotMessage
from bot.store import Conversation


class MessengerPlatformChannel(MetaChannel):
    # The `object` of the deliveries that are this channel's.
    platform: ClassVar[str]

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self._peers: dict[str, MessengerPlatformChannel] = {}

    token = property(lambda self: self.settings.messenger_page_token)
    app_secret = property(lambda self: self.settings.messenger_app_secret)
    verify_token = property(lambda self: self.settings.messenger_verify_token)
    api_base_url = property(lambda self: self.settings.messenger_api_base_url)

    def routes(self) -> list[web.AbstractRouteDef]:
        return []

    async def start(self, app: web.Application) -> None:
        await super().start(app)
        self._peers = {
            channel.platform: channel
            for channel in app[CHANNELS]
            if isinstance(channel, MessengerPlatformChannel)
        }

    async def accept(self, body: dict) -> None:
        """A delivery for any Messenger Platform channel: stored by the one it names."""
        platform = body.get("object")
        channel = self._peers.get(platform) if isinstance(platform, str) else None
        if channel is None or channel.intake is None or channel.outbound is None:
            return  # not a platform served here: acknowledged, so Meta does not retry it
        incoming, delivered = events.read(body, channel.name)
        for message in incoming:
            await channel.intake.receive(message)
        for receipt in delivered:
            for message_id in receipt.message_ids:
                await channel.outbound.status(message_id, "delivered", None)

    async def handle(self, stored: Stored) -> None:
        assert self.services is not None
        text, attachments = events.text_of(stored.payload)
        user = events.user_of(stored.sender) or ""
        inbound = self.inbound(user, text, external_id=stored.message_id)
        if not attachments:
            if text.strip():
                await self.converse(inbound)
            return
        conversation = await self.services.store.conversation(inbound.sender)
        ticket = conversation and await self.services.handoff.active(conversation.id)
        found = (stored.payload.get("message") or {}).get("attachments") or []
        if not ticket:
            kind = (
                found[0].get("type", "attachment") if isinstance(found[0], dict) else "attachment"
            )
            await self.answer_directly(
                replace(inbound, text=f"[{kind}]"), "utter_unsupported_media"
            )
            return
        # A person is helping: Meta's link to each file (it expires) goes to the agent.
        lines = [
            f"[{item.get('type', 'file')}] {(item.get('payload') or {}).get('url', '')}".strip()
            for item in found
            if isinstance(item, dict)
        ]
        described = " ".join([text, *lines]).strip()
        outcome = await self.services.gateway.handle(replace(inbound, text=described))
        thanks = await self.services.speaker.say("utter_media_sent_to_agent", outcome.language)
        await self.services.store.add_bot_messages(conversation.id, [thanks.text], outcome.language)
        await self.send(inbound.sender, [*outcome.messages, thanks], replying=True)

    async def send_one(
        self, sender: str, message: BotMessage, *, from_agent: bool, replying: bool
    ) -> None:
        assert self.outbound is not None
        # A reply to what the customer just sent is inside the window by definition.
        window, now = (None if replying else await self.window(sender)), self.now()
        tagged = window is not None and not window.open(now)
        if window is not None and tagged and not (from_agent and window.human_agent_open(now)):
            row = await self.outbound.sending(sender, "text")
            reason = f"outside the {self.name} 24-hour window ({window.closed_since()})"
            await self.outbound.failed(row, reason)
            raise Conflict(reason)
        user = events.user_of(sender) or ""
        for kind, body in messages.bodies(self.name, user, message, tagged=tagged):
            await self.record(sender, kind, "me/messages", body)

    async def check_reachable(self, conversation: Conversation) -> None:
        if self.intake is None:
            raise Conflict(f"the {self.name} channel is off (MESSENGER_PAGE_TOKEN)")
        window, now = await self.window(conversation.sender), self.now()
        if window.open(now) or window.human_agent_open(now):
            return  # after 24 hours, up to 7 days, tagged HUMAN_AGENT
        raise Conflict(
            f"not sent: the customer last wrote on {self.name.capitalize()} more than 7 days "
            "ago, and Meta lets no message through now (not even a human agent's); it "
            "reaches them once they write again"
        )


class MessengerChannel(MessengerPlatformChannel):
    name = "messenger"
    platform = "page"
    capabilities = Capabilities(
        buttons=True,
        max_text=messages.MAX_TEXT["messenger"],
        files=True,
        pushes=True,
        files_out=True,
    )

    def routes(self) -> list[web.AbstractRouteDef]:
        # Instagram's deliveries come here too (the same app subscription).
        return [
            web.get("/messenger/webhook", self.verify),
            web.post("/messenger/webhook", self.webhook),
        ]

    async def send_file(self, conversation: Conversation, file: OutgoingFile) -> None:
        """Uploaded with the message (`filedata`), as an image, audio or file attachment;
        after 24 hours, tagged HUMAN_AGENT (the service checked the window). Attachments
        have no caption: it follows as a text. (Instagram takes files only from a public
        URL, which Tolk does not serve: there the agent sends a link.)"""
        assert self.graph is not None
        if self.intake is None:
            raise Conflict(f"the {self.name} channel is off (MESSENGER_PAGE_TOKEN)")
        window = await self.window(conversation.sender)
        fields = messages.attachment_fields(
            events.user_of(conversation.sender) or "",
            messages.attachment_kind(file.kind),
            tagged=not window.open(self.now()),
        )
        graph = self.graph
        try:
            await self.recorded(
                conversation.sender,
                "attachment",
                lambda: graph.upload(
                    "me/messages", fields, file.name, file.content, file.kind, "filedata"
                ),
            )
        except GraphError as error:
            raise UpstreamFailed(f"Messenger did not take the file: {error.message}") from None
        if file.caption:
            await self.send(conversation.sender, [BotMessage(file.caption)], from_agent=True)


class InstagramChannel(MessengerPlatformChannel):
    name = "instagram"
    platform = "instagram"
    capabilities = Capabilities(
        buttons=True, max_text=messages.MAX_TEXT["instagram"], files=True, pushes=True
    )
