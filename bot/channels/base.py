"""What every channel is to the gateway: one `Channel` interface.

A channel turns its protocol into an `Inbound` (built by `Channel.inbound`, so that the
conversation key and the channel's name always agree, bot/senders.py), hands it to the
gateway, and sends the `Outcome` back its own way. Messages that reach a customer outside
a reply (agent replies, handoff notices, late answers) come through `Channel.deliver`,
called by the one delivery port (bot/delivery.py). Its routes are added once, when the
application is built (bot/routes.py); it connects and disconnects with the application
(`start`, `stop`). Channels are listed in one place: bot/channels/registry.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web

from bot.attachments import OutgoingFile
from bot.errors import Conflict
from bot.inbound import Inbound
from bot.rasa_client import BotMessage
from bot.senders import conversation_key
from bot.settings import Settings
from bot.store import Conversation


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show, so that callers need not know which channel it is."""

    # Reply buttons; their payload comes back as the customer's next text.
    buttons: bool
    # The longest text a customer may send in one message (longer gets 413 or is cut).
    max_text: int
    # Customers can send files, which the agent opens from the transcript.
    files: bool = False
    # Can reach the customer outside a reply; else the client reads the stored conversation.
    pushes: bool = False
    # Agents can send customers files (Channel.send_file).
    files_out: bool = False


class Channel(ABC):
    # The conversation key prefix and `Inbound.channel` ("telegram" for `telegram-<chat>`).
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(self, settings: Settings) -> None:
        # Only settings here: the application is being built, nothing is running yet.
        self.settings = settings

    @abstractmethod
    def routes(self) -> list[web.AbstractRouteDef]:
        """The HTTP routes this channel adds (an empty list for one that only polls)."""

    # Hooks, not abstract: REST and the web chat connect to nothing and push nothing.
    async def start(self, app: web.Application) -> None:  # noqa: B027
        """Connect, once the application's services are up (their app keys are set)."""

    async def stop(self) -> None:  # noqa: B027
        """Disconnect before the services go."""

    async def deliver(  # noqa: B027
        self, conversation: Conversation, messages: Sequence[BotMessage]
    ) -> None:
        """Push messages the bot or an agent says outside a reply. They are stored already:
        a channel that cannot push (`capabilities.pushes` false) does nothing, its clients
        read the conversation."""

    async def follow(  # noqa: B027
        self, conversation: Conversation, messages: Sequence[BotMessage]
    ) -> None:
        """Another channel's push, for a channel the conversation continued on as well
        (e-mail, bot/channels/email/): it sends a copy. Others do nothing."""

    async def check_reachable(self, conversation: Conversation) -> None:  # noqa: B027
        """Raise a bot/errors.py error (Conflict) when an agent's reply cannot reach the
        customer now, before it is stored: WhatsApp's and Messenger's messaging windows.
        Channels that can always deliver (or only store) do nothing."""

    async def send_file(self, conversation: Conversation, file: OutgoingFile) -> None:
        """An agent's file to the customer, sent before it is stored, so that a refusal
        (UpstreamFailed, Conflict) reaches the agent. Channels without `files_out` refuse."""
        raise Conflict(f"files cannot be sent to customers on {self.name}")

    def key(self, own_id: str) -> str:
        """The conversation key of what this channel calls `own_id` (a chat, a sender)."""
        return conversation_key(self.name, own_id)

    def inbound(
        self,
        own_id: str,
        text: str,
        *,
        language_hint: str | None = None,
        customer_name: str | None = None,
        external_id: str | None = None,
        timezone: str | None = None,
    ) -> Inbound:
        """A customer's message on this channel, in the gateway's terms."""
        return Inbound(
            sender=self.key(own_id),
            channel=self.name,
            text=text,
            language_hint=language_hint,
            customer_name=customer_name,
            external_id=external_id,
            timezone=timezone,
        )
