"""What a Meta channel (WhatsApp, Messenger, Instagram) is to the gateway, said once.

The webhook (`GET` handshake, signed `POST`) stores what customers sent and answers 200;
intake.py hands each customer's messages, in order, to `handle`; replies and pushes go out
one after the other per customer (`send`), each recorded in outbound.py. What differs per
platform (reading a delivery, building a message, the window's rules) is the subclass's.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.appkeys import ENGINE, GATEWAY, HANDOFF, LIMITS, SPEAKER, STORE
from bot.channels.base import Channel
from bot.channels.meta.graph import GraphClient
from bot.channels.meta.inbound import InboundLog, Stored
from bot.channels.meta.intake import Intake
from bot.channels.meta.outbound import OutboundLog
from bot.channels.meta.webhook import signed_body, verification
from bot.channels.meta.window import Window
from bot.db import utcnow
from bot.handoff.service import HandoffService
from bot.http_errors import json_error
from bot.inbound import Gateway, Inbound, Outcome
from bot.rasa_client import BotMessage
from bot.settings import Settings
from bot.speaker import Speaker
from bot.store import Conversation, Store

log = logging.getLogger(__name__)


class Services:
    """The application's services a running Meta channel uses (set in `start`)."""

    def __init__(self, app: web.Application) -> None:
        self.gateway: Gateway = app[GATEWAY]
        self.store: Store = app[STORE]
        self.handoff: HandoffService = app[HANDOFF]
        self.speaker: Speaker = app[SPEAKER]


class MetaChannel(Channel):
    """A channel on Meta's Graph API; on while its token is set (settings refuse a token
    without the app secret, so an unsigned webhook is never taken)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.graph: GraphClient | None = None
        self.intake: Intake | None = None
        self.outbound: OutboundLog | None = None
        self.services: Services | None = None
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # What each platform says ---------------------------------------------------------

    @property
    @abstractmethod
    def token(self) -> str | None: ...

    @property
    @abstractmethod
    def app_secret(self) -> str | None: ...

    @property
    @abstractmethod
    def verify_token(self) -> str | None: ...

    @property
    @abstractmethod
    def api_base_url(self) -> str: ...

    @abstractmethod
    async def accept(self, body: dict) -> None:
        """Store what a verified delivery holds (intake.receive), record statuses."""

    @abstractmethod
    async def handle(self, stored: Stored) -> None:
        """One stored customer message, in its turn."""

    @abstractmethod
    async def send_one(
        self, sender: str, message: BotMessage, *, from_agent: bool, replying: bool
    ) -> None:
        """Send one message (in as many pieces as the platform needs), recording each;
        `replying` to the message being handled (so inside the window), else a push."""

    # Lifecycle -----------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.app_secret)

    async def start(self, app: web.Application) -> None:
        if not self.enabled:
            return
        engine = app[ENGINE]
        self.services = Services(app)
        self.graph = GraphClient(
            self.api_base_url, self.settings.graph_api_version, self.token or ""
        )
        self.outbound = OutboundLog(engine, self.name)
        self.intake = Intake(
            InboundLog(engine, self.name),
            self.handle,
            app[LIMITS],
            self.settings.meta_reorder_seconds,
        )
        await self.intake.start()

    async def stop(self) -> None:
        intake, self.intake = self.intake, None
        if intake is not None:
            await intake.stop()
        graph, self.graph = self.graph, None
        if graph is not None:
            await graph.close()

    # The webhook ---------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        if self.intake is None:
            return json_error(404, f"the {self.name} channel is off")
        return verification(request, self.verify_token)

    async def webhook(self, request: web.Request) -> web.Response:
        """200 once stored (so a redelivery is never lost, nor handled twice)."""
        if self.intake is None:
            return json_error(404, f"the {self.name} channel is off")
        body = await signed_body(request, self.app_secret or "")
        if isinstance(body, web.Response):
            return body
        await self.accept(body)
        return web.json_response({"ok": True})

    # Conversing ----------------------------------------------------------------------

    async def converse(self, inbound: Inbound) -> Outcome:
        assert self.services is not None
        outcome = await self.services.gateway.handle(inbound)
        await self.send(inbound.sender, outcome.messages, replying=True)
        return outcome

    async def answer_directly(self, inbound: Inbound, key: str) -> None:
        assert self.services is not None
        outcome = await self.services.gateway.answer_directly(inbound, key)
        await self.send(inbound.sender, outcome.messages, replying=True)

    async def window(self, sender: str) -> Window:
        assert self.intake is not None
        return Window(await self.intake.messages.last_from_customer(sender))

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        """Agent replies and handoff news, sent in the background so that the agent's
        request does not wait for Meta (they are stored already)."""
        if self.intake is not None:
            self.intake.spawn(self._push(conversation, list(messages)))

    async def _push(self, conversation: Conversation, messages: list[BotMessage]) -> None:
        assert self.services is not None
        agent = await self.services.handoff.active(conversation.id) is not None
        await self.send(conversation.sender, messages, from_agent=agent)

    async def send(
        self,
        sender: str,
        messages: Sequence[BotMessage],
        *,
        from_agent: bool = False,
        replying: bool = False,
    ) -> bool:
        """In order, per customer; False (the rest not sent) when Meta refused one. The
        texts are in the transcript, the failure in `meta_outbound` and the log."""
        lock = self._locks.setdefault(sender, asyncio.Lock())
        async with lock:
            for message in messages:
                if message.signal is not None and not message.text:
                    continue
                try:
                    await self.send_one(sender, message, from_agent=from_agent, replying=replying)
                except Exception as error:  # GraphError or a closed window, recorded
                    log.warning("a %s message was not delivered: %s", self.name, error)
                    return False
        return True

    async def record(self, sender: str, kind: str, path: str, body: dict) -> dict:
        """One Graph API call, recorded before (sending) and after (sent or failed)."""
        assert self.graph is not None
        graph = self.graph
        return await self.recorded(sender, kind, lambda: graph.post(path, body))

    async def recorded(self, sender: str, kind: str, call: Callable[[], Awaitable[dict]]) -> dict:
        """`call` (a Graph API request: a message, a file upload), recorded like `record`."""
        assert self.outbound is not None and self.services is not None
        if await self.services.store.conversation(sender) is None:
            return await call()  # erased: nothing more is kept
        row = await self.outbound.sending(sender, kind)
        try:
            answer = await call()
        except Exception as error:
            await self.outbound.failed(row, str(error))
            raise
        await self.outbound.sent(row, _sent_id(answer))
        return answer

    def now(self):
        return utcnow()


def _sent_id(answer: dict) -> str | None:
    """The id Meta gave the message: WhatsApp's messages[0].id, Messenger's message_id."""
    sent = answer.get("messages")
    if isinstance(sent, list) and sent and isinstance(sent[0], dict):
        return str(sent[0].get("id") or "") or None
    return str(answer.get("message_id") or "") or None
