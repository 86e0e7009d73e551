"""What was sent to a Meta channel's customer and what became of it (`meta_outbound`).

Recorded before the call, so a failure is kept with Meta's reason (the text itself is in
the transcript); WhatsApp's status callbacks (sent, delivered, read, failed) and
Messenger's delivery receipts move a message on by its id. Only messages of a stored
conversation are recorded: the goodbye after /delete_my_data leaves nothing behind.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import meta_outbound, reading, utcnow

STATUSES = ("sending", "sent", "delivered", "read", "failed")
# A callback never moves a message back (Meta may deliver "delivered" after "read").
_RANK = {status: rank for rank, status in enumerate(STATUSES)}


class OutboundLog:
    def __init__(self, engine: AsyncEngine, channel: str) -> None:
        self._engine = engine
        self.channel = channel

    async def sending(self, sender: str, kind: str) -> int:
        now = utcnow()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                meta_outbound.insert().values(
                    channel=self.channel,
                    sender=sender,
                    kind=kind,
                    status="sending",
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0])

    async def sent(self, row_id: int, message_id: str | None) -> None:
        await self._set(row_id, status="sent", message_id=(message_id or "")[:256] or None)

    async def failed(self, row_id: int, error: str) -> None:
        await self._set(row_id, status="failed", error=error[:500])

    async def status(self, message_id: str, status: str, error: str | None) -> bool:
        """A status callback: moves our message on (never back). False for a message we
        have no record of (sent before this database, by another tool, or to a customer
        since erased): nothing is recorded about it, so an erasure stays complete."""
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(meta_outbound.c.id, meta_outbound.c.status).where(
                        meta_outbound.c.channel == self.channel,
                        meta_outbound.c.message_id == message_id,
                    )
                )
            ).first()
            if row is None:
                return False
            if status != "failed" and _RANK.get(status, 0) <= _RANK.get(row.status, 0):
                return True
            await connection.execute(
                update(meta_outbound)
                .where(meta_outbound.c.id == row.id)
                .values(status=status, error=error, updated_at=utcnow())
            )
            return True

    async def of(self, sender: str) -> list[dict]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(meta_outbound)
                .where(meta_outbound.c.channel == self.channel, meta_outbound.c.sender == sender)
                .order_by(meta_outbound.c.id)
            )
            return [
                {"message_id": r.message_id, "kind": r.kind, "status": r.status, "error": r.error}
                for r in rows
            ]

    async def _set(self, row_id: int, **values: object) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(meta_outbound)
                .where(meta_outbound.c.id == row_id)
                .values(**values, updated_at=utcnow())
            )
