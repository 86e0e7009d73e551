"""Conversations continued by e-mail (`email_threads`) and the IMAP read position
(`email_mailboxes`), in the gateway's database (bot/db.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.email.refs import new_reference
from bot.db import email_mailboxes, email_threads, reading, utcnow

# At most this many mails a conversation's thread takes in per window (a mail loop that
# slips past the auto-reply checks stops here), and sends per window.
WINDOW = timedelta(hours=1)
PER_WINDOW = 20


@dataclass(frozen=True)
class Thread:
    id: int
    sender: str  # the conversation key
    address: str
    reference: str
    last_message_id: str | None
    opened_at: datetime


class ThreadStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open(self, sender: str, address: str) -> Thread:
        """The conversation's thread, on `address` (a new address gets a new reference, so
        that the old address's replies no longer match)."""
        now = utcnow()
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(email_threads).where(email_threads.c.sender == sender)
                )
            ).first()
            if row is not None and row.address == address:
                return _thread(row)
            if row is not None:
                await connection.execute(email_threads.delete().where(email_threads.c.id == row.id))
            result = await connection.execute(
                email_threads.insert().values(
                    sender=sender,
                    address=address,
                    reference=new_reference(),
                    window_start=now,
                    window_count=0,
                    created_at=now,
                )
            )
            row = (
                await connection.execute(
                    select(email_threads).where(
                        email_threads.c.id == result.inserted_primary_key[0]
                    )
                )
            ).one()
            return _thread(row)

    async def of_sender(self, sender: str) -> Thread | None:
        return await self._one(email_threads.c.sender == sender)

    async def of_reference(self, reference: str) -> Thread | None:
        return await self._one(email_threads.c.reference == reference)

    async def sent(self, thread_id: int, message_id: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(email_threads)
                .where(email_threads.c.id == thread_id)
                .values(last_message_id=message_id)
            )

    async def take(self, thread_id: int, now: datetime | None = None) -> bool:
        """Count one mail handled on the thread; False once the window's share is used."""
        now = now or utcnow()
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(email_threads.c.window_start, email_threads.c.window_count).where(
                        email_threads.c.id == thread_id
                    )
                )
            ).first()
            if row is None:
                return False
            start, count = row
            if now - start >= WINDOW:
                start, count = now, 0
            if count >= PER_WINDOW:
                return False
            await connection.execute(
                update(email_threads)
                .where(email_threads.c.id == thread_id)
                .values(window_start=start, window_count=count + 1)
            )
            return True

    async def mailbox(self, name: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID stored) of a mailbox, if read before."""
        async with reading(self._engine) as connection:
            row = (
                await connection.execute(
                    select(email_mailboxes.c.uidvalidity, email_mailboxes.c.last_uid).where(
                        email_mailboxes.c.mailbox == name
                    )
                )
            ).first()
        return (row[0], row[1]) if row else None

    async def read_upto(self, name: str, uidvalidity: int, uid: int) -> None:
        async with self._engine.begin() as connection:
            done = await connection.execute(
                update(email_mailboxes)
                .where(email_mailboxes.c.mailbox == name)
                .values(uidvalidity=uidvalidity, last_uid=uid)
            )
            if not done.rowcount:
                await connection.execute(
                    email_mailboxes.insert().values(
                        mailbox=name, uidvalidity=uidvalidity, last_uid=uid
                    )
                )

    async def _one(self, condition) -> Thread | None:
        async with reading(self._engine) as connection:
            row = (await connection.execute(select(email_threads).where(condition))).first()
        return _thread(row) if row else None


def _thread(row) -> Thread:
    return Thread(
        row.id, row.sender, row.address, row.reference, row.last_message_id, row.created_at
    )
