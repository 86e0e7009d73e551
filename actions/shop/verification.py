"""Checking that a customer owns an order before anything about it is shown or changed.

A wrong e-mail, an unknown order and someone else's order all get the same answer, so
nothing can be learnt by trying. After 5 failures within 15 minutes for an order number,
for an e-mail address or for a sender, checking stops for it until the window has passed.
Senders cost nothing to invent, so what counts is the order and the address, whoever asks:
those failures are kept apart from the sender (`verification_throttle`), so that erasing a
conversation, which takes its own failures with it, does not reset them either.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from actions.shop.model import Order, Shop
from actions.shop.tables import metadata, utcnow

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

# No conversation and no address in clear (a hash), only what is being guessed at.
verification_throttle = Table(
    "verification_throttle",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("email_hash", String(64), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False, index=True),
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
        number, email_hash = number.strip(), _hash(email)
        if await self.locked(sender, number, email_hash):
            return Verdict(locked=True)
        order = await self.shop.order(number)
        matches = order is not None and hmac.compare_digest(
            order.email.strip().lower().encode(), email.strip().lower().encode()
        )
        if matches:
            return Verdict(order)
        await self._failed(sender, number, email_hash)
        return Verdict(locked=await self.locked(sender, number, email_hash))

    async def locked(self, sender: str, number: str, email_hash: str) -> bool:
        since = self.clock() - WINDOW
        recent = verification_throttle.c.created_at >= since
        async with self._engine.connect() as connection:
            counts = [
                await connection.scalar(
                    select(func.count()).where(
                        verification_failures.c.sender == sender,
                        verification_failures.c.created_at >= since,
                    )
                ),
                await connection.scalar(
                    select(func.count()).where(
                        verification_throttle.c.order_number == number, recent
                    )
                ),
                await connection.scalar(
                    select(func.count()).where(
                        verification_throttle.c.email_hash == email_hash, recent
                    )
                ),
            ]
        return max(counts) >= MAX_FAILURES

    async def _failed(self, sender: str, number: str, email_hash: str) -> None:
        now = self.clock()
        async with self._engine.begin() as connection:
            # Old failures say nothing any more; keep the tables small.
            for table in (verification_failures, verification_throttle):
                await connection.execute(delete(table).where(table.c.created_at < now - 4 * WINDOW))
            await connection.execute(
                verification_failures.insert().values(
                    sender=sender, order_number=number, created_at=now
                )
            )
            await connection.execute(
                verification_throttle.insert().values(
                    order_number=number, email_hash=email_hash, created_at=now
                )
            )


def _hash(email: str) -> str:
    """The address as verification compares it (trimmed, lower case), hashed."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
