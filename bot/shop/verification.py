"""Checking that a customer owns an order before anything about it is shown or changed.

A wrong e-mail, an unknown order and someone else's order all get the same answer, so
nothing can be learnt by trying. After 5 failures within 15 minutes, per sender and per
order number, checking stops for that sender or order until the window has passed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import metadata, utcnow
from bot.shop.model import Order, Shop

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)

verification_failures = Table(
    "verification_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(128), nullable=False, index=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Verdict:
    order: Order | None = None
    locked: bool = False

    @property
    def verified(self) -> bool:
        return self.order is not None


class Verifier:
    def __init__(
        self, engine: AsyncEngine, shop: Shop, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self.shop = shop
        self.clock = clock

    async def verify(self, sender: str, number: str, email: str) -> Verdict:
        if await self.locked(sender, number):
            return Verdict(locked=True)
        order = await self.shop.order(number)
        matches = order is not None and hmac.compare_digest(
            order.email.strip().lower().encode(), email.strip().lower().encode()
        )
        if matches:
            return Verdict(order)
        await self._failed(sender, number)
        return Verdict(locked=await self.locked(sender, number))

    async def locked(self, sender: str, number: str) -> bool:
        since = self.clock() - WINDOW
        async with self._engine.connect() as connection:
            by_sender = await connection.scalar(
                select(func.count()).where(
                    verification_failures.c.sender == sender,
                    verification_failures.c.created_at >= since,
                )
            )
            by_order = await connection.scalar(
                select(func.count()).where(
                    verification_failures.c.order_number == number,
                    verification_failures.c.created_at >= since,
                )
            )
        return by_sender >= MAX_FAILURES or by_order >= MAX_FAILURES

    async def _failed(self, sender: str, number: str) -> None:
        now = self.clock()
        async with self._engine.begin() as connection:
            await connection.execute(
                # Old failures say nothing any more; keep the table small.
                delete(verification_failures).where(
                    verification_failures.c.created_at < now - 4 * WINDOW
                )
            )
            await connection.execute(
                verification_failures.insert().values(
                    sender=sender, order_number=number, created_at=now
                )
            )
