"""Conversation keys: the channel is part of every conversation's name.

Each conversation is stored, sent to Rasa (its tracker's sender_id), erased, throttled and
shown to agents under one key, "<channel>-<the channel's own id>": `telegram-<chat id>`,
`web-<browser id>`, `rest-<the REST client's sender>`. A REST client that sends the sender
"telegram-123" talks in the conversation `rest-telegram-123`, never in Telegram chat 123's
(DESIGN "Conversations are keyed by channel and sender"). Channels build keys here only.
"""

from __future__ import annotations


class WrongChannel(ValueError):
    """A conversation key that does not belong to the channel using it."""


def conversation_key(channel: str, own_id: str) -> str:
    """The key of the conversation `own_id` names on `channel` (e.g. rest + "anna")."""
    return f"{channel}-{own_id}"


def rest_key(sender: str) -> str:
    """The key of a REST client's conversation, whatever the client's sender looks like."""
    return conversation_key("rest", sender)


def channel_of_key(key: str) -> str | None:
    """The channel a conversation key names ("telegram" for `telegram-42`), or None."""
    channel, dash, _ = key.partition("-")
    return channel if dash else None


def check_key(key: str, channel: str) -> None:
    """Refuse a key that names another channel's conversation (a bug, never a customer's)."""
    if channel_of_key(key) != channel:
        raise WrongChannel(f"conversation key {key!r} does not belong to channel {channel!r}")
