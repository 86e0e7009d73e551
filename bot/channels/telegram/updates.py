"""Telegram updates as they arrive, stored before they are acknowledged.

Telegram redelivers a webhook update it got no 200 for, and polling may see an update
again after a restart; the update_id is the key, so each is stored and handled once
(membership, not "greater than the last": a late or reordered update is not dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import reading, telegram_updates, utcnow
from bot.errors import Conflict
from bot.senders import conversation_key

SENDER_PREFIX = "telegram-"


def sender_for(chat_id: int) -> str:
    """The conversation key of a Telegram chat (bot/senders.py)."""
    return conversation_key("telegram", str(chat_id))


def chat_of_sender(sender: str) -> int | None:
    chat = sender.removeprefix(SENDER_PREFIX)
    if chat != sender and chat.lstrip("-").isdigit():
        return int(chat)
    return None


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    chat_id: int | None
    payload: dict


def chat_of(payload: dict) -> int | None:
    """The chat an update belongs to; None when it names none (or not as a chat id)."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if isinstance(payload.get(kind), dict):
            return _chat_id(_field(payload[kind], "chat", "id"))
    query = payload.get("callback_query")
    if isinstance(query, dict):
        return _chat_id(_field(query, "message", "chat", "id")) or _chat_id(
            _field(query, "from", "id")
        )
    return None


def _field(value: object, *path: str) -> object:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def is_int64(value: object) -> bool:
    """An integer the database can store (Telegram's ids all are); bool is not one."""
    return type(value) is int and -(2**63) <= value < 2**63


def _chat_id(value: object) -> int | None:
    return value if is_int64(value) else None


class UpdateLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def store(self, payload: dict) -> StoredUpdate | None:
        """The stored update, or None when this update_id was stored before."""
        stored = StoredUpdate(int(payload["update_id"]), chat_of(payload), payload)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    telegram_updates.insert().values(
                        update_id=stored.update_id,
                        chat_id=stored.chat_id,
                        payload=json.dumps(payload, ensure_ascii=False),
                        status="received",
                        received_at=utcnow(),
                    )
                )
        except Conflict:  # the update_id is stored already (bot/db_errors.py translates)
            return None
        return stored

    async def pending(self, chat_id: int | None) -> list[StoredUpdate]:
        """Not yet handled updates of one chat, in update_id order."""
        condition = (
            telegram_updates.c.chat_id.is_(None)
            if chat_id is None
            else telegram_updates.c.chat_id == chat_id
        )
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(telegram_updates)
                .where(condition, telegram_updates.c.status == "received")
                .order_by(telegram_updates.c.update_id)
            )
            return [
                StoredUpdate(row.update_id, row.chat_id, json.loads(row.payload)) for row in rows
            ]

    async def chats_with_pending(self) -> list[int | None]:
        """Chats with updates stored but not handled (e.g. the service stopped meanwhile)."""
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(telegram_updates.c.chat_id)
                .where(telegram_updates.c.status == "received")
                .distinct()
            )
            return [row.chat_id for row in rows]

    async def done(self, update_id: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(telegram_updates)
                .where(telegram_updates.c.update_id == update_id)
                .values(status="done")
            )
