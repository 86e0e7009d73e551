"""The one way out to customers for messages that are not a reply to their request.

Agent replies, handoff notices (queue position, "back with the bot", the rating question)
and late answers (bot/retry.py) are stored first by whoever says them, then handed here.
The conversation key names its channel (`telegram-…`, `web-…`, `rest-…`, bot/senders.py),
so the message goes to that channel's `deliver` and to no other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bot.attachments import OutgoingFile
from bot.errors import Conflict
from bot.rasa_client import BotMessage
from bot.senders import channel_of_key
from bot.store import Conversation

if TYPE_CHECKING:
    from bot.channels.base import Channel

log = logging.getLogger(__name__)


class Delivery:
    def __init__(self, channels: Iterable[Channel]) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            if channel.name in self._channels or "-" in channel.name:
                # A prefix taken twice, or one that is not a whole prefix, would send one
                # channel's messages to another's customers.
                raise ValueError(f"channel name {channel.name!r} is taken or contains '-'")
            self._channels[channel.name] = channel

    def channel_of(self, key: str) -> Channel | None:
        """The channel a conversation key belongs to, or None (no such channel here)."""
        name = channel_of_key(key)
        return self._channels.get(name) if name else None

    async def check_reachable(self, conversation: Conversation) -> None:
        """Before an agent's reply is stored: the channel's refusal (a closed window), if any."""
        channel = self.channel_of(conversation.sender)
        if channel is not None:
            await channel.check_reachable(conversation)

    async def send_file(self, conversation: Conversation, file: OutgoingFile) -> None:
        """An agent's file, through the conversation's own channel (which may refuse)."""
        channel = self.channel_of(conversation.sender)
        if channel is None:
            raise Conflict(f"files cannot be sent to customers on {conversation.channel}")
        await channel.send_file(conversation, file)

    async def deliver(self, conversation: Conversation, messages: Sequence[BotMessage]) -> None:
        channel = self.channel_of(conversation.sender)
        if channel is None:
            log.warning("no channel for a conversation of %s: stored only", conversation.channel)
            return
        try:
            await channel.deliver(conversation, list(messages))
        except Exception:  # a channel failing must not fail the agent's request: it is stored
            log.exception("delivering to %s failed; the message stays stored", channel.name)
        for other in self._channels.values():
            if other is channel:
                continue
            try:  # a conversation continued by e-mail gets its copy there (Channel.follow)
                await other.follow(conversation, list(messages))
            except Exception:
                log.exception("following up on %s failed; the message stays stored", other.name)
