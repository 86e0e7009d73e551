"""Where a conversation's sessions begin, the same way for the surveys and the metrics.

A session is a run of a conversation's messages in which no customer message comes more
than `Settings.session_minutes` (60, as Rasa's session expiry in domain.yml) after the
previous message of the bot or an agent. So a customer who comes back the next day starts
a new session; one who waits two hours for an agent without anybody writing does too (the
ticket itself stays open).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class Timed(Protocol):
    author: str
    created_at: datetime


T = TypeVar("T", bound=Timed)


def split(messages: Iterable[T], minutes: int) -> list[list[T]]:
    """A conversation's messages (oldest first) cut into sessions."""
    sessions: list[list[T]] = []
    last_reply: datetime | None = None
    gap = timedelta(minutes=minutes)
    for message in messages:
        if message.author == "customer":
            if not sessions or last_reply is None or message.created_at - last_reply > gap:
                sessions.append([])
        elif not sessions:
            sessions.append([])  # the bot or an agent spoke first (a pushed notice)
        sessions[-1].append(message)
        if message.author != "customer":
            last_reply = message.created_at
    return sessions


def current(messages: Sequence[T], minutes: int) -> list[T]:
    """The last session of `messages` (oldest first)."""
    sessions = split(messages, minutes)
    return sessions[-1] if sessions else []
