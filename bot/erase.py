"""Erasing everything stored about one customer (`python -m bot erase`, /delete_my_data).

The conversation row takes its messages, tickets and notes with it (foreign keys cascade);
Telegram updates of the chat and Rasa's tracker for the sender go too. The translation
memory keeps only masked texts shared by everyone, so nothing in it is this customer's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, database, messages, telegram_updates, tickets
from bot.telegram.updates import chat_of_sender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    messages: int
    tickets: int
    telegram_updates: int
    tracker_events: int

    @property
    def anything(self) -> bool:
        return any(vars(self).values())


class Eraser:
    def __init__(self, engine: AsyncEngine, tracker_url: str | None) -> None:
        self._engine = engine
        self._tracker_url = tracker_url

    async def erase(self, sender: str) -> Erased:
        async with self._engine.begin() as connection:
            conversation_id = await connection.scalar(
                select(conversations.c.id).where(conversations.c.sender == sender)
            )
            counted = {"messages": 0, "tickets": 0}
            if conversation_id is not None:
                for name, table in (("messages", messages), ("tickets", tickets)):
                    counted[name] = await connection.scalar(
                        select(func.count()).where(table.c.conversation_id == conversation_id)
                    )
                await connection.execute(
                    delete(conversations).where(conversations.c.id == conversation_id)
                )
            updates = 0
            chat = chat_of_sender(sender)
            if chat is not None:
                result = await connection.execute(
                    delete(telegram_updates).where(telegram_updates.c.chat_id == chat)
                )
                updates = result.rowcount
        events = await asyncio.to_thread(self._erase_tracker, sender)
        erased = Erased(counted["messages"], counted["tickets"], updates, events)
        log.info("erased a customer: %s", erased)
        return erased

    def _erase_tracker(self, sender: str) -> int:
        """Rasa's SQL tracker store keeps every event in its `events` table."""
        if not self._tracker_url:
            return 0
        url = make_url(self._tracker_url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
            return 0  # Rasa has not stored anything yet (and creating the file helps no one)
        engine = sqlalchemy.create_engine(url, future=True)
        try:
            with engine.begin() as connection:
                if not sqlalchemy.inspect(connection).has_table("events"):
                    return 0
                events = sqlalchemy.table("events", sqlalchemy.column("sender_id"))
                result = connection.execute(delete(events).where(events.c.sender_id == sender))
                return result.rowcount
        finally:
            engine.dispose()


def run_erase(settings, sender: str) -> int:
    async def work() -> Erased:
        async with database(settings.database_url) as engine:
            return await Eraser(engine, settings.tracker_url).erase(sender)

    erased = asyncio.run(work())
    if not erased.anything:
        print(f"nothing stored about {sender!r}")
        return 0
    print(
        f"erased {sender!r}: {erased.messages} messages, {erased.tickets} tickets, "
        f"{erased.telegram_updates} Telegram updates, {erased.tracker_events} tracker events"
    )
    return 0
