"""Erasing everything stored about one customer, and what is older than the retention.

`python -m bot erase --sender S`, /delete_my_data on every channel and a deleted shop
account erase one conversation (S is its key, e.g. `telegram-12345`, `web-…`,
`rest-<sender>`: bot/senders.py). `TOLK_RETENTION_DAYS` erases, the same way, every
conversation whose last activity is older (`Eraser.expire`, run by the gateway's sweep).

What goes, table by table (`Erased` counts each):
- `conversations`: the conversation row, and with it (foreign keys cascade; counted and
  deleted explicitly, so a database without enforced foreign keys loses them too)
  `messages`, `tickets` and their `ticket_notes`, `surveys` (answers, reasons in the
  customer's words);
- `telegram_files`: which files the customer sent (cascades with the messages too);
- `telegram_updates`: the raw Telegram payloads of the chat;
- `meta_inbound`, `meta_outbound`: what a WhatsApp, Messenger or Instagram customer sent
  (raw payloads) and what became of the messages sent to them, by conversation key;
- `email_threads`: the address a conversation continued on by e-mail and its reference
  (the mails themselves are in `messages`; the IMAP read position names no one);
- `verification_failures`: the order checks the conversation failed (they name orders);
- `translation_memory`: machine translations of texts of this conversation (what the
  customer wrote, agents' replies to them, transcript translations) that no other
  conversation used; `translation_memory_uses`: the conversation's links. Entries other
  conversations used too stay: they hold, masked, exactly what someone else wrote as
  well, so nothing only this customer's. Human-approved entries stay: the content team
  wrote them, not the customer;
- Rasa's tracker (`events` in the SQL tracker store): every event of the sender.

Not touched:
- `verification_throttle`: failed checks per order number and hashed address, whoever
  asked (no conversation in it, and an erasure must not reset a throttle); pruned within
  the hour, and by the retention;
- the demo shop's tables (`shop_*`), its e-mail outbox included: the shop's records of an
  account, not of a chat. A chat sender can type anyone's address, so erasing by what a
  chat mentioned would let a stranger delete another person's mail; the account, with its
  outbox mail, goes when its verified owner deletes it (SqlShop.delete_account);
- logs: ours never hold message texts, names or e-mail addresses (bot/logs.py), and Rasa's
  and the action server's pass the same redaction, so there is nothing of theirs to erase.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import column, delete, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import TableClause

from bot.channels.telegram.updates import chat_of_sender
from bot.db import (
    alerts,
    async_url,
    conversations,
    database,
    email_threads,
    incident_customers,
    messages,
    meta_inbound,
    meta_outbound,
    reading,
    surveys,
    telegram_files,
    telegram_updates,
    ticket_notes,
    tickets,
    utcnow,
)
from bot.translation.memory import entries_used_by, forget, forget_unused_before

log = logging.getLogger(__name__)

# The action server's verifier writes these (actions/shop/verification.py, which creates
# them): failed order checks, which name orders. The gateway only deletes from them, by
# these columns; a database the action server never opened has neither.
verification_failures = table("verification_failures", column("sender"), column("created_at"))
verification_throttle = table("verification_throttle", column("created_at"))

# How often the gateway looks for conversations past the retention (bot/app.py).
RETENTION_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Erased:
    """Rows removed, per table (`tracker_events`: Rasa's `events`)."""

    conversations: int = 0
    messages: int = 0
    tickets: int = 0
    ticket_notes: int = 0
    surveys: int = 0
    telegram_files: int = 0
    telegram_updates: int = 0
    meta_inbound: int = 0
    meta_outbound: int = 0
    email_threads: int = 0
    verification_failures: int = 0
    translation_memory: int = 0
    tracker_events: int = 0

    @property
    def anything(self) -> bool:
        return any(vars(self).values())

    def __add__(self, other: Erased) -> Erased:
        return Erased(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def lines(self) -> list[str]:
        """One line per table, for the operator."""
        return [f"  {f.name:<22} {getattr(self, f.name)}" for f in fields(self)]


class Eraser:
    def __init__(self, engine: AsyncEngine, tracker_url: str | None) -> None:
        self._engine = engine
        self._tracker_url = tracker_url

    async def erase(self, sender: str) -> Erased:
        """Everything stored about the conversation `sender` (its key), tracker included."""
        async with self._engine.begin() as connection:
            erased = await _erase_rows(connection, sender)
        await _scrub(self._engine)
        events = await self._erase_tracker(sender)
        erased = erased + Erased(tracker_events=events)
        # Counts only: the sender key can name a person (a REST client's e-mail address).
        log.info("erased a customer: %s", _counts(erased))
        return erased

    async def expire(self, days: int, now: datetime | None = None) -> Erased:
        """Erase every conversation whose last activity (a message from anyone) is more
        than `days` ago, as `erase` does, and whatever else is that old."""
        before = (now or utcnow()) - timedelta(days=days)
        recent = select(messages.c.id).where(
            messages.c.conversation_id == conversations.c.id, messages.c.created_at >= before
        )
        async with reading(self._engine, scans=True) as connection:
            senders = list(
                await connection.scalars(
                    select(conversations.c.sender).where(
                        conversations.c.updated_at < before, ~recent.exists()
                    )
                )
            )
        erased = Erased()
        for sender in senders:
            erased += await self.erase(sender)
        async with self._engine.begin() as connection:
            # Payloads of chats that never became a conversation, and old memory entries
            # no kept conversation uses (made before entries were linked, or catalogue
            # texts, translated again when next needed).
            updates = await connection.execute(
                delete(telegram_updates).where(telegram_updates.c.received_at < before)
            )
            meta_in = await connection.execute(
                delete(meta_inbound).where(meta_inbound.c.received_at < before)
            )
            meta_out = await connection.execute(
                delete(meta_outbound).where(meta_outbound.c.updated_at < before)
            )
            failures = 0
            for kept in await _present(connection, verification_failures, verification_throttle):
                result = await connection.execute(delete(kept).where(kept.c.created_at < before))
                failures += result.rowcount
            entries = await forget_unused_before(connection, before)
        events = await self._expire_trackers(before)
        erased += Erased(
            telegram_updates=updates.rowcount,
            meta_inbound=meta_in.rowcount,
            meta_outbound=meta_out.rowcount,
            verification_failures=failures,
            translation_memory=entries,
            tracker_events=events,
        )
        if erased.anything:
            log.info("retention of %d days: %s", days, _counts(erased))
        return erased

    async def _erase_tracker(self, sender: str) -> int:
        """Rasa's SQL tracker store keeps every event in its `events` table."""
        return await self._in_tracker(
            lambda events: delete(events).where(events.c.sender_id == sender)
        )

    async def _expire_trackers(self, before: datetime) -> int:
        """Trackers whose newest event is older than `before` (senders that have no
        conversation here any more, or never had one)."""
        cutoff = (before - datetime(1970, 1, 1)).total_seconds()  # naive UTC, as Rasa's

        def statement(events):
            old = (
                select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(func.max(events.c.timestamp) < cutoff)
            )
            return delete(events).where(events.c.sender_id.in_(old))

        return await self._in_tracker(statement)

    async def _in_tracker(self, statement) -> int:
        if not self._tracker_url:
            return 0
        url = make_url(self._tracker_url)
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite and not await asyncio.to_thread(Path(url.database or "").exists):
            return 0  # Rasa has not stored anything yet (and creating the file helps no one)
        # Through the gateway's own async drivers (aiosqlite, asyncpg): its environment has
        # no synchronous PostgreSQL driver, which left trackers on PostgreSQL unerased.
        # Not bot.db.create_engine: its SQLite pragmas are for our database, not Rasa's.
        engine = create_async_engine(async_url(self._tracker_url))
        try:
            async with engine.begin() as connection:
                if not await connection.run_sync(lambda sync: inspect(sync).has_table("events")):
                    return 0
                events = table("events", column("sender_id"), column("timestamp"))
                if sqlite:
                    await connection.exec_driver_sql("PRAGMA secure_delete=ON")
                deleted = (await connection.execute(statement(events))).rowcount
            if sqlite:
                async with reading(engine, scans=True) as connection:  # waits for readers
                    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return deleted
        finally:
            await engine.dispose()


async def _erase_rows(connection: AsyncConnection, sender: str) -> Erased:
    erased = Erased()
    ids = list(
        await connection.scalars(select(conversations.c.id).where(conversations.c.sender == sender))
    )
    for conversation_id in ids:
        erased += await _erase_conversation(connection, conversation_id)
    chat = chat_of_sender(sender)
    if chat is not None:
        result = await connection.execute(
            delete(telegram_updates).where(telegram_updates.c.chat_id == chat)
        )
        erased += Erased(telegram_updates=result.rowcount)
    inbound = await connection.execute(delete(meta_inbound).where(meta_inbound.c.sender == sender))
    outbound = await connection.execute(
        delete(meta_outbound).where(meta_outbound.c.sender == sender)
    )
    erased += Erased(meta_inbound=inbound.rowcount, meta_outbound=outbound.rowcount)
    threads = await connection.execute(
        delete(email_threads).where(email_threads.c.sender == sender)
    )
    erased += Erased(email_threads=threads.rowcount)
    if not await _present(connection, verification_failures):
        return erased
    result = await connection.execute(
        delete(verification_failures).where(verification_failures.c.sender == sender)
    )
    return erased + Erased(verification_failures=result.rowcount)


async def _present(connection: AsyncConnection, *tables: TableClause) -> list[TableClause]:
    """Those of the tables the database has."""
    names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    return [kept for kept in tables if kept.name in names]


async def _erase_conversation(connection: AsyncConnection, conversation_id: int) -> Erased:
    entries = await entries_used_by(connection, conversation_id)
    its_tickets = select(tickets.c.id).where(tickets.c.conversation_id == conversation_id)
    notes = await connection.execute(
        delete(ticket_notes).where(ticket_notes.c.ticket_id.in_(its_tickets))
    )
    # Alerts name a ticket (its number, priority, channel), never what the customer wrote.
    await connection.execute(delete(alerts).where(alerts.c.ticket_id.in_(its_tickets)))
    # Links first (forget), then the rows they point at.
    memory = await forget(connection, entries, conversation_id)
    files = await connection.execute(
        delete(telegram_files).where(telegram_files.c.conversation_id == conversation_id)
    )
    asked = await connection.execute(
        delete(surveys).where(surveys.c.conversation_id == conversation_id)
    )
    # Which incidents this customer was told of (bot/incidents/): the notices stay.
    await connection.execute(
        delete(incident_customers).where(incident_customers.c.conversation_id == conversation_id)
    )
    said = await connection.execute(
        delete(messages).where(messages.c.conversation_id == conversation_id)
    )
    handed = await connection.execute(
        delete(tickets).where(tickets.c.conversation_id == conversation_id)
    )
    await connection.execute(delete(conversations).where(conversations.c.id == conversation_id))
    return Erased(
        conversations=1,
        messages=said.rowcount,
        tickets=handed.rowcount,
        ticket_notes=notes.rowcount,
        surveys=asked.rowcount,
        telegram_files=files.rowcount,
        translation_memory=memory,
    )


def _counts(erased: Erased) -> str:
    return ", ".join(f"{f.name} {getattr(erased, f.name)}" for f in fields(erased))


def run_erase(settings, sender: str) -> int:
    async def work() -> Erased:
        async with database(settings.database_url) as engine:
            return await Eraser(engine, settings.tracker_url).erase(sender)

    erased = asyncio.run(work())
    if not erased.anything:
        # The likeliest slip: a REST sender without its channel (bot/senders.py).
        print(
            f"nothing stored about {sender!r}; conversations are named channel first: "
            "rest-<sender> for what a REST client sent as sender (rest-anna), "
            "telegram-<chat id>, whatsapp-<number>, messenger-<psid>, instagram-<igsid>, "
            "web-<id>, as the agent console shows them"
        )
        return 0
    print(f"erased {sender!r}, rows per table:")
    print("\n".join(erased.lines()))
    return 0


async def _scrub(engine: AsyncEngine) -> None:
    """SQLite keeps deleted rows in its write-ahead log until a checkpoint: move them into
    the database file (where secure_delete, bot/db.py, has zeroed them) and empty the log,
    so that an erased customer cannot be read back from the files."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's VACUUM reclaims dead rows on its own schedule
    async with reading(engine, scans=True) as connection:  # waits for readers
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
