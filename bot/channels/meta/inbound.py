"""Customers' messages from Meta's webhooks, stored before the 200 and handled once.

Meta redelivers a delivery it got no 200 for (and sometimes one it did): the platform's
message id is the key, so a message is stored, and answered, once. Messages of one
customer are handled in the order they were sent (the platform's timestamp, then arrival),
not in the order the webhook brought them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import meta_inbound, reading, utcnow
from bot.errors import Conflict


@dataclass(frozen=True)
class Incoming:
    """One thing a customer did (a message, a button press), as the channel read it."""

    message_id: str
    sender: str  # the conversation key, e.g. whatsapp-31612345678
    sent_at: datetime
    payload: dict


@dataclass(frozen=True)
class Stored:
    id: int
    message_id: str
    sender: str
    payload: dict


class InboundLog:
    def __init__(self, engine: AsyncEngine, channel: str) -> None:
        self._engine = engine
        self.channel = channel

    async def store(self, incoming: Incoming) -> bool:
        """True when stored now; False when this message id was stored before."""
        now = utcnow()
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    meta_inbound.insert().values(
                        channel=self.channel,
                        message_id=incoming.message_id[:256],
                        sender=incoming.sender,
                        payload=json.dumps(incoming.payload, ensure_ascii=False),
                        status="received",
                        # A clock ahead of ours must not stretch the window.
                        sent_at=min(incoming.sent_at, now),
                        received_at=now,
                    )
                )
        except Conflict:  # stored already (bot/db_errors.py translates the violation)
            return False
        return True

    async def pending(self, sender: str) -> list[Stored]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(meta_inbound)
                .where(
                    meta_inbound.c.channel == self.channel,
                    meta_inbound.c.sender == sender,
                    meta_inbound.c.status == "received",
                )
                .order_by(meta_inbound.c.sent_at, meta_inbound.c.id)
            )
            return [
                Stored(row.id, row.message_id, row.sender, json.loads(row.payload)) for row in rows
            ]

    async def senders_with_pending(self) -> list[str]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(meta_inbound.c.sender)
                .where(meta_inbound.c.channel == self.channel, meta_inbound.c.status == "received")
                .distinct()
            )
            return [row.sender for row in rows]

    async def done(self, stored_id: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(meta_inbound).where(meta_inbound.c.id == stored_id).values(status="done")
            )

    async def last_from_customer(self, sender: str) -> datetime | None:
        """When the customer last wrote (or pressed a button): the window's start."""
        async with reading(self._engine) as connection:
            return await connection.scalar(
                select(func.max(meta_inbound.c.sent_at)).where(
                    meta_inbound.c.channel == self.channel, meta_inbound.c.sender == sender
                )
            )
