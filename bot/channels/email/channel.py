"""E-mail as a `Channel`: a conversation (on any channel) continued by mail.

A conversation moves to e-mail when the customer asks ("send me this by e-mail",
actions/email.py, through the gateway), when an agent chooses "continue by e-mail" (POST
/api/v1/agent/tickets/{id}/email) or when the customer left an address after hours and
a person writes back (the ticket's follow_up_email). From then on, what the delivery port
pushes to the conversation also goes to the address (`follow`), and replies land in the
same conversation, handled like any message (translated for the agent during a handoff,
answered by the bot otherwise).

Who may write into a conversation by mail: a mail must carry the thread's reference
(headers, the plus address, or the subject tag) AND come From the thread's address. A
stranger quoting a reference is refused, and the customer's other addresses too (they
can ask to continue on a new one). From can be forged; the 50-bit reference is what a
forger would also need.

Who may have Tolk write to an address: the customer names any address, so a stranger can
make it mail someone else. Such a mail holds only what the bot and the agents wrote (never
the customer's words), and a conversation moves to another address by the bot's hand at
most once a day (ADDRESS_HOLD) and mails at most PER_WINDOW times an hour.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy import exists, select

from bot.appkeys import DELIVERY, ENGINE, GATEWAY, HANDOFF, SPEAKER, STORE
from bot.channels.base import Capabilities, Channel
from bot.channels.email import mail as mails
from bot.channels.email.imap import ImapPoller
from bot.channels.email.outbound import SmtpSender
from bot.channels.email.refs import find_reference
from bot.channels.email.threads import Thread, ThreadStore
from bot.channels.email.urls import check_address, parse_imap_url, parse_smtp_url
from bot.continuation import Continued
from bot.db import messages as messages_table
from bot.db import reading, utcnow
from bot.errors import Conflict, NotFound, Unavailable
from bot.handoff.api import authenticate
from bot.http_errors import BadRequest, json_error, read_json
from bot.inbound import Gateway, Inbound
from bot.rasa_client import BotMessage
from bot.senders import channel_of_key
from bot.settings import PIVOT_LANGUAGE, Settings
from bot.store import Conversation

log = logging.getLogger(__name__)
# The inbound webhook's body: a mail's text parts and headers, base64 attachments aside.
MAX_WEBHOOK = 1024 * 1024
# How many of the bot's and agents' latest messages the first mail repeats.
_RECENT = 5
# How long a conversation the bot moved to an address stays there: the customer (or
# whoever holds the chat) cannot have the bot mail a new address every message.
ADDRESS_HOLD = timedelta(days=1)


@dataclass(frozen=True)
class Received:
    status: str  # stored | ignored | refused
    reason: str | None = None

    def as_json(self) -> dict:
        return {"status": self.status, "reason": self.reason}


class EmailChannel(Channel):
    name = "email"
    capabilities = Capabilities(buttons=False, max_text=mails.MAX_TEXT, pushes=True)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.sender: SmtpSender | None = None
        self.threads: ThreadStore | None = None
        self.own = check_address(settings.email_from) if settings.email_from else ""
        self._app: web.Application | None = None
        self._poller: asyncio.Task | None = None

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/email/inbound", self.webhook),
            web.post("/api/v1/agent/tickets/{ticket}/email", self.agent_continue),
        ]

    async def start(self, app: web.Application) -> None:
        self._app = app
        self.threads = ThreadStore(app[ENGINE])
        if self.settings.smtp_url and self.settings.email_from:
            self.sender = SmtpSender(
                parse_smtp_url(self.settings.smtp_url), self.settings.email_from
            )
        if self.settings.imap_url:
            poller = ImapPoller(
                parse_imap_url(self.settings.imap_url), self.threads, self.receive_raw
            )
            self._poller = asyncio.create_task(poller.run(self.settings.email_poll_seconds))

    async def stop(self) -> None:
        task, self._poller = self._poller, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # Out --------------------------------------------------------------------------

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        await self.follow(conversation, messages)

    async def follow(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """A push to a conversation continued by e-mail goes to its address too (an
        after-hours address left on the ticket opens the thread with the first push)."""
        if self.sender is None or self.threads is None or not messages:
            return
        thread = await self.threads.of_sender(conversation.sender)
        if thread is None:
            ticket = await self._app[HANDOFF].active(conversation.id) if self._app else None
            if ticket is None or not ticket.follow_up_email:
                return
            thread = await self.threads.open(conversation.sender, ticket.follow_up_email)
        await self._send(thread, conversation, [m.text for m in messages])

    async def continue_by_email(self, conversation: Conversation, address: str) -> Thread:
        """The agent's "continue by e-mail": the latest answers by mail, a note in the chat."""
        if self.sender is None or self.threads is None or self._app is None:
            raise Unavailable("e-mail is not set up here (TOLK_SMTP_URL, TOLK_EMAIL_FROM)")
        try:
            address = check_address(address).lower()
        except ValueError:
            raise BadRequest(400, "`address` must be an e-mail address") from None
        thread = await self._open(conversation, address)
        language = conversation.language or PIVOT_LANGUAGE
        note = await self._app[SPEAKER].say("utter_email_continued", language, email=address)
        await self._app[STORE].add_bot_messages(conversation.id, [note.text], language)
        channel = self._app[DELIVERY].channel_of(conversation.sender)
        if channel is not None and channel is not self:
            await channel.deliver(conversation, [note])
        return thread

    async def continue_for_customer(self, conversation: Conversation, address: str) -> Continued:
        """The customer's "send me this by e-mail" (bot/continuation.py); the gateway tells
        them how it went, in their language."""
        if self.sender is None or self.threads is None or self._app is None:
            return Continued("off")
        try:
            address = check_address(address).lower()
        except ValueError:
            return Continued("invalid")
        current = await self.threads.of_sender(conversation.sender)
        if current is not None:
            if current.address != address and utcnow() - current.opened_at < ADDRESS_HOLD:
                return Continued("locked", current.address)
            if current.address == address and not await self.threads.take(current.id):
                return Continued("failed", address)
        try:
            await self._open(conversation, address)
        except Unavailable as error:
            log.warning("continuing by e-mail failed: %s", error)
            return Continued("failed", address)
        return Continued("sent", address)

    async def _open(self, conversation: Conversation, address: str) -> Thread:
        """The conversation's thread on `address`, opened with the latest answers."""
        assert self.threads is not None and self._app is not None
        thread = await self.threads.open(conversation.sender, address)
        store = self._app[STORE]
        said = [m.text for m in await store.transcript(conversation.id) if m.author != "customer"]
        await self._send(thread, conversation, said[-_RECENT:])
        return thread

    async def _send(self, thread: Thread, conversation: Conversation, texts: list[str]) -> None:
        assert self.sender is not None and self.threads is not None and self._app is not None
        speaker = self._app[SPEAKER]
        language = conversation.language or PIVOT_LANGUAGE
        subject = (await speaker.say("utter_email_subject", language)).text
        footer = (await speaker.say("utter_email_footer", language)).text
        composed = self.sender.compose(thread, subject, texts, footer)
        await self.sender.send(composed)
        await self.threads.sent(thread.id, composed["Message-ID"])

    # In ---------------------------------------------------------------------------

    async def receive_raw(self, raw: bytes) -> Received:
        return await self.receive(await asyncio.to_thread(mails.from_bytes, raw))

    async def receive(self, mail: mails.Mail) -> Received:
        """A mail into its conversation, or why not (logged without addresses or text)."""
        if self.threads is None or self._app is None:
            raise Unavailable("the e-mail channel is not running")
        why = mails.automatic(mail, self.own)
        if why is not None:
            return _skip("ignored", f"automatic mail ({why})")
        reference = find_reference(mail.parents, mail.recipients, mail.subject, self.own)
        if reference is None:
            return _skip("refused", "no conversation reference")
        thread = await self.threads.of_reference(reference)
        if thread is None:
            return _skip("refused", "unknown conversation reference")
        if not hmac.compare_digest(mail.sender.encode(), thread.address.lower().encode()):
            return _skip("refused", "not sent from the conversation's address")
        text = mail.text.strip()
        if not text:
            return _skip("ignored", "nothing new in the mail")
        conversation = await self._app[STORE].conversation(thread.sender)
        if conversation is None:
            return _skip("refused", "the conversation was erased")
        external = "email:" + (mail.message_id or hashlib.sha256(mail.body.encode()).hexdigest())
        external = external[:200]
        if await self._stored(conversation.id, external):
            return _skip("ignored", "delivered before")
        if not await self.threads.take(thread.id):
            return _skip("ignored", "too many mails on this conversation (mail loop?)")
        gateway: Gateway = self._app[GATEWAY]
        outcome = await gateway.handle(
            Inbound(
                sender=conversation.sender,
                channel=channel_of_key(conversation.sender) or conversation.channel,
                text=text,
                external_id=external,
            )
        )
        if mail.message_id:  # our answer replies to the customer's mail
            await self.threads.sent(thread.id, mail.message_id)
        if outcome.messages and self.sender is not None:
            thread = await self.threads.of_reference(reference) or thread
            conversation = await self._app[STORE].conversation(thread.sender) or conversation
            await self._send(thread, conversation, [m.text for m in outcome.messages])
        return Received("stored")

    async def _stored(self, conversation_id: int, external_id: str) -> bool:
        async with reading(self._app[ENGINE]) as connection:
            return bool(
                await connection.scalar(
                    select(
                        exists().where(
                            messages_table.c.conversation_id == conversation_id,
                            messages_table.c.external_id == external_id,
                        )
                    )
                )
            )

    # Routes -----------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """An inbound-mail service posts each mail here (docs/openapi.yaml, EmailInbound).
        200 for stored, ignored and refused alike: a provider retries anything else."""
        expected = self.settings.email_inbound_token
        if not expected or self.threads is None:
            return json_error(
                404, "the inbound-mail webhook is not enabled (TOLK_EMAIL_INBOUND_TOKEN)"
            )
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = given or request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return json_error(401, "missing or wrong token (Authorization: Bearer <token>)")
        body = await read_json(request, MAX_WEBHOOK)
        try:
            mail = mails.from_json(body)
        except ValueError as error:
            raise BadRequest(400, str(error)) from None
        return web.json_response((await self.receive(mail)).as_json())

    async def agent_continue(self, request: web.Request) -> web.Response:
        """The agent's "continue by e-mail": to `address`, or the one left after hours."""
        agent = await authenticate(request)
        if self.sender is None:
            return json_error(404, "e-mail is off (TOLK_SMTP_URL and TOLK_EMAIL_FROM)")
        body = await read_json(request)
        raw = request.match_info["ticket"]
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            raise BadRequest(400, "the ticket id must be a number")
        handoff = request.app[HANDOFF]
        ticket = await handoff.tickets.get(int(raw))
        if ticket is None:
            raise NotFound(f"no ticket {raw}")
        if ticket.status == "resolved" or ticket.agent_id != agent.id:
            raise Conflict(f"ticket {raw} is not held by you; claim it first")
        address = body.get("address", ticket.follow_up_email)
        if not isinstance(address, str) or not address.strip():
            raise BadRequest(400, "give `address`: the customer left none on this ticket")
        conversation = await request.app[STORE].conversation(ticket.sender)
        if conversation is None:
            raise NotFound(f"the customer of ticket {raw} was erased")
        thread = await self.continue_by_email(conversation, address.strip())
        return web.json_response(
            {"address": thread.address, "reference": thread.reference}, status=201
        )


def _skip(status: str, reason: str) -> Received:
    log.info("inbound e-mail %s: %s", status, reason)
    return Received(status, reason)
