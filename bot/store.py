"""Conversations and their messages in the SQL database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, utcnow


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or is locked; nothing was written."""


@dataclass(frozen=True)
class Conversation:
    id: int
    sender: str
    channel: str
    language: str | None
    customer_name: str | None
    timezone: str | None = None
    csat_ticket_id: int | None = None


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    author: str
    text: str
    language: str | None
    created_at: datetime
    pivot_text: str | None = None
    source_text: str | None = None
    source_language: str | None = None

    def as_json(self) -> dict:
        return {
            "seq": self.seq,
            "from": self.author,
            "text": self.text,
            "language": self.language,
            "ts": self.created_at.isoformat(timespec="milliseconds") + "Z",
        }


@dataclass(frozen=True)
class Received:
    conversation: Conversation
    message_seq: int
    duplicate: bool


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def receive(
        self,
        *,
        sender: str,
        channel: str,
        text: str,
        customer_name: str | None = None,
        external_id: str | None = None,
        timezone: str | None = None,
    ) -> Received:
        """Store an inbound message before anything else happens to it.

        A message whose channel id was stored already is reported as a duplicate and
        not stored again.
        """
        now = utcnow()
        try:
            async with self._engine.begin() as connection:
                conversation = await self._conversation_for_update(
                    connection, sender, channel, customer_name, timezone, now
                )
                if external_id is not None:
                    existing = await connection.scalar(
                        select(messages.c.id).where(
                            messages.c.conversation_id == conversation.id,
                            messages.c.external_id == external_id,
                        )
                    )
                    if existing is not None:
                        return Received(conversation, existing, duplicate=True)
                result = await connection.execute(
                    messages.insert().values(
                        conversation_id=conversation.id,
                        author="customer",
                        text=text,
                        language=conversation.language,
                        external_id=external_id,
                        status="received",
                        created_at=now,
                    )
                )
                return Received(conversation, result.inserted_primary_key[0], duplicate=False)
        except IntegrityError:
            # Two deliveries of one message raced; the other one stored it.
            return await self.receive(
                sender=sender,
                channel=channel,
                text=text,
                customer_name=customer_name,
                external_id=external_id,
                timezone=timezone,
            )
        except OperationalError as error:
            raise StoreUnavailable(str(error.orig)) from error

    async def _conversation_for_update(
        self, connection, sender, channel, name, timezone, now
    ) -> Conversation:
        row = (
            await connection.execute(select(conversations).where(conversations.c.sender == sender))
        ).first()
        if row is None:
            result = await connection.execute(
                conversations.insert().values(
                    sender=sender,
                    channel=channel,
                    customer_name=name,
                    timezone=timezone,
                    created_at=now,
                    updated_at=now,
                )
            )
            return Conversation(
                result.inserted_primary_key[0], sender, channel, None, name, timezone
            )
        values = {"updated_at": now}
        if name and name != row.customer_name:
            values["customer_name"] = name
        if timezone and timezone != row.timezone:
            values["timezone"] = timezone
        await connection.execute(
            update(conversations).where(conversations.c.id == row.id).values(**values)
        )
        return Conversation(
            row.id,
            row.sender,
            row.channel,
            row.language,
            name or row.customer_name,
            timezone or row.timezone,
            row.csat_ticket_id,
        )

    async def set_language(self, conversation_id: int, message_seq: int, language: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(language=language)
            )
            await connection.execute(
                update(messages).where(messages.c.id == message_seq).values(language=language)
            )

    async def set_pivot(self, message_seq: int, pivot_text: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(messages).where(messages.c.id == message_seq).values(pivot_text=pivot_text)
            )

    async def finish(
        self,
        conversation_id: int,
        message_seq: int,
        status: str,
        replies: list[str],
        language: str | None,
    ) -> list[int]:
        """Store the bot's replies and the customer message's outcome together; the
        replies' seqs."""
        async with self._engine.begin() as connection:
            seqs = await _insert_bot_messages(connection, conversation_id, replies, language)
            await connection.execute(
                update(messages).where(messages.c.id == message_seq).values(status=status)
            )
        return seqs

    async def last_bot_message_at(self, conversation_id: int) -> datetime | None:
        async with self._engine.connect() as connection:
            return await connection.scalar(
                select(func.max(messages.c.created_at)).where(
                    messages.c.conversation_id == conversation_id, messages.c.author == "bot"
                )
            )

    async def replies_after(self, conversation_id: int, seq: int) -> list[StoredMessage]:
        """Bot replies stored after customer message `seq`, up to the next customer message."""
        found = []
        for message in await self._messages(conversation_id, seq):
            if message.author == "customer":
                break
            if message.author == "bot":
                found.append(message)
        return found

    async def conversation(self, sender: str) -> Conversation | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(conversations).where(conversations.c.sender == sender)
                )
            ).first()
        if row is None:
            return None
        return Conversation(
            row.id,
            row.sender,
            row.channel,
            row.language,
            row.customer_name,
            row.timezone,
            row.csat_ticket_id,
        )

    async def messages(self, sender: str, after: int = 0) -> list[StoredMessage] | None:
        conversation = await self.conversation(sender)
        if conversation is None:
            return None
        return await self._messages(conversation.id, after)

    async def _messages(self, conversation_id: int, after: int) -> list[StoredMessage]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.id > after)
                .order_by(messages.c.id)
            )
            return [_stored(row) for row in rows]

    async def recent_customer_messages(
        self, conversation_id: int, count: int
    ) -> list[StoredMessage]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .where(messages.c.author == "customer")
                .order_by(messages.c.id.desc())
                .limit(count)
            )
            return [_stored(row) for row in reversed(rows.all())]

    async def transcript(self, conversation_id: int, limit: int = 300) -> list[StoredMessage]:
        """The latest `limit` messages, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            )
            return [_stored(row) for row in reversed(rows.all())]

    async def add_bot_messages(
        self, conversation_id: int, texts: list[str], language: str | None
    ) -> list[int]:
        """Messages the bot sends on its own (handoff news), not as a reply."""
        async with self._engine.begin() as connection:
            return await _insert_bot_messages(connection, conversation_id, texts, language)

    async def add_agent_message(
        self,
        conversation_id: int,
        agent_id: int,
        text: str,
        language: str,
        source_text: str,
        source_language: str,
    ) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                messages.insert().values(
                    conversation_id=conversation_id,
                    author="agent",
                    text=text,
                    language=language,
                    agent_id=agent_id,
                    source_text=source_text,
                    source_language=source_language,
                    created_at=utcnow(),
                )
            )
            return result.inserted_primary_key[0]


async def _insert_bot_messages(
    connection, conversation_id: int, texts: list[str], language: str | None
) -> list[int]:
    now = utcnow()
    seqs = []
    for said in texts:
        result = await connection.execute(
            messages.insert().values(
                conversation_id=conversation_id,
                author="bot",
                text=said,
                language=language,
                created_at=now,
            )
        )
        seqs.append(result.inserted_primary_key[0])
    return seqs


def _stored(row) -> StoredMessage:
    return StoredMessage(
        row.id,
        row.author,
        row.text,
        row.language,
        row.created_at,
        row.pivot_text,
        row.source_text,
        row.source_language,
    )


def session_expired(last: datetime | None, now: datetime, minutes: int) -> bool:
    return last is None or now - last > timedelta(minutes=minutes)
