"""Conversations and their messages in the SQL database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Insert,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, one_statement, reading, utcnow
from bot.errors import Conflict
from bot.errors import StoreUnavailable as StoreUnavailable  # where callers imported it from
from bot.prepared import Prepared, Statements, statements
from bot.retry import RetryPolicy
from bot.senders import check_key

# Customer messages without their answer yet: `received` is being answered (until its
# `not_before`, the lease of whoever answers it), `failed` waits for a retry (from its
# `not_before`). Every other status is final. See bot/retry.py.
UNANSWERED = ("received", "failed")

# Whether an older customer message of the conversation is still unanswered, read by the
# INSERT that stores the new one rather than by a statement of its own. Written out because
# SQLAlchemy names RETURNING's columns without their table on SQLite, and a subquery over
# the same table cannot then tell the two apart; `messages` in it is the row just inserted,
# on both databases. (On PostgreSQL the INSERT starts after the conversation's row was
# taken, so it sees every message stored before this one.)
_OLDER_UNANSWERED = literal_column(
    "EXISTS (SELECT 1 FROM messages AS older"
    " WHERE older.conversation_id = messages.conversation_id AND older.id < messages.id"
    " AND older.author = 'customer' AND older.status IN ("
    + ", ".join(f"'{status}'" for status in UNANSWERED)
    + "))",
    Boolean,
).label("behind")

# The statements on every message's way are built once, with parameters: building one
# (and its cache key) anew for each call cost more CPU than running it, 0.15-0.35 ms of
# 0.3-0.7 ms per statement on PostgreSQL, and a message runs eight or nine of them: built
# once, the gateway's CPU per message fell by a fifth (README, "Configuration"). They run
# without SQLAlchemy's execution around them, which cost as much again (bot/prepared.py).
# Parameters are named apart from the columns they set, as SQLAlchemy requires.
_TOUCH_CONVERSATION = Prepared(
    update(conversations)
    .where(conversations.c.sender == bindparam("key"))
    .values(
        updated_at=bindparam("at", type_=DateTime),
        customer_name=func.coalesce(bindparam("name", type_=String), conversations.c.customer_name),
        timezone=func.coalesce(bindparam("zone", type_=String), conversations.c.timezone),
    )
    .returning(conversations)
)
_NEW_CONVERSATION = Prepared(
    conversations.insert().returning(conversations.c.id),
    columns=["sender", "channel", "customer_name", "timezone", "created_at", "updated_at"],
)
# A messaging app's id for the message, which a redelivery repeats.
_BY_EXTERNAL_ID = Prepared(
    select(messages.c.id).where(
        messages.c.conversation_id == bindparam("conversation"),
        messages.c.external_id == bindparam("external"),
    )
)
_STORE_CUSTOMER_MESSAGE = Prepared(
    messages.insert().returning(messages.c.id, _OLDER_UNANSWERED),
    columns=[
        "conversation_id",
        "author",
        "text",
        "language",
        "external_id",
        "status",
        "attempts",
        "not_before",
        "created_at",
    ],
)
# The conditional UPDATE that answers a message once (Store.finish).
_ANSWER_ONCE = (
    update(messages)
    .where(messages.c.id == bindparam("seq"), messages.c.status.in_(UNANSWERED))
    .values(status=bindparam("outcome", type_=String), not_before=None)
)
_ANSWERED_ONCE = Prepared(_ANSWER_ONCE.returning(messages.c.id))
# The rest of a failed try (Store.finish): when it may be tried again, and whether the
# customer was told already.
_ATTEMPTS = Prepared(select(messages.c.attempts).where(messages.c.id == bindparam("seq")))
_RETRY_AT = Prepared(
    update(messages)
    .where(messages.c.id == bindparam("seq"))
    .values(not_before=bindparam("retry_at", type_=DateTime))
)
_TOLD = Prepared(select(exists().where(messages.c.reply_to == bindparam("seq"))))
_SAID = Prepared(
    select(messages.c.author, messages.c.created_at, messages.c.intent, messages.c.answer).where(
        messages.c.id == bindparam("seq")
    )
)
# When the bot last spoke in the conversation, alone (Store.last_bot_message_at) and
# beside the latest customer messages (_CONTEXT).
_LAST_BOT_AT = select(func.max(messages.c.created_at)).where(
    messages.c.conversation_id == bindparam("conversation"), messages.c.author == "bot"
)
_LAST_BOT_AT_ALONE = Prepared(_LAST_BOT_AT)
_CONTEXT = Prepared(
    select(messages, _LAST_BOT_AT.scalar_subquery().label("last_bot_at"))
    .where(messages.c.conversation_id == bindparam("conversation"))
    .where(messages.c.author == "customer")
    .order_by(messages.c.id.desc())
    .limit(bindparam("count", type_=Integer))
)


def _finish_with_replies() -> Insert:
    """Store.finish on PostgreSQL as one statement: the conditional UPDATE in a WITH, and
    the replies inserted only if it changed the row.

    Two tries finishing together still answer once: the second one's UPDATE waits for the
    first's row lock, then finds the status final and matches nothing, so it inserts
    nothing.
    """
    done = _ANSWER_ONCE.returning(messages.c.id).cte("done")
    # The replies as one array parameter, not a VALUES list: the statement is the same
    # whatever their number, so asyncpg prepares it once.
    said = (
        func.unnest(bindparam("replies", type_=ARRAY(Text)))
        .table_valued("text", with_ordinality="n")
        .render_derived(name="said")
    )
    rows = (
        select(
            bindparam("conversation", type_=Integer),
            literal("bot", String),
            said.c.text,
            bindparam("reply_language", type_=String),
            done.c.id,
            bindparam("at", type_=DateTime),
        )
        .select_from(done)
        .join(said, true())
        .order_by(said.c.n)  # the seqs in the order the replies are said
    )
    columns = ["conversation_id", "author", "text", "language", "reply_to", "created_at"]
    return messages.insert().from_select(columns, rows).returning(messages.c.id).add_cte(done)


_FINISH_WITH_REPLIES = Prepared(_finish_with_replies())
# A reply where finish is a transaction (SQLite, a failed try), a message the bot sends of
# itself.
_BOT_MESSAGE = Prepared(
    messages.insert().returning(messages.c.id),
    columns=["conversation_id", "author", "text", "language", "reply_to", "status", "created_at"],
)


@dataclass(frozen=True)
class Conversation:
    id: int
    sender: str  # the conversation key, channel first (bot/senders.py)
    channel: str
    language: str | None
    customer_name: str | None
    timezone: str | None = None


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
    # An older message of the conversation still waits for its answer (bot/retry.py).
    behind: bool = False
    # The language stored on the message row (the conversation's when it came in); None
    # when not known. The gateway writes the language it chose only when it differs.
    stored_language: str | None = None


@dataclass(frozen=True)
class Said:
    """A message as the surveys and incident notices read it: who wrote it, when, and
    what the /nlg callbacks noted of Rasa's answer to it (bot/outcomes.py)."""

    author: str
    created_at: datetime
    intent: str | None
    answer: str | None


@dataclass(frozen=True)
class Claimed:
    """An unanswered message this caller now answers (and nobody else, until the lease ends)."""

    conversation: Conversation
    seq: int
    text: str
    external_id: str | None
    attempts: int  # this try included
    created_at: datetime


class Store:
    def __init__(self, engine: AsyncEngine, retry: RetryPolicy | None = None) -> None:
        self._engine = engine
        self._retry = retry or RetryPolicy()

    async def ping(self) -> None:
        async with reading(self._engine) as connection:
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

        `sender` is the conversation key (bot/senders.py), which must be `channel`'s. A
        message whose channel id was stored already is reported as a duplicate and not
        stored again.
        """
        check_key(sender, channel)
        now = utcnow()
        try:
            async with statements(self._engine, writes="several") as run:
                conversation = await self._conversation_for_update(
                    run, sender, channel, customer_name, timezone, now
                )
                if external_id is not None:
                    existing = await run.scalar(
                        _BY_EXTERNAL_ID,
                        {"conversation": conversation.id, "external": external_id},
                    )
                    if existing is not None:
                        return Received(conversation, existing, duplicate=True)
                stored = await run.first(
                    _STORE_CUSTOMER_MESSAGE,
                    {
                        "conversation_id": conversation.id,
                        "author": "customer",
                        "text": text,
                        "language": conversation.language,
                        "external_id": external_id,
                        # Claimed by this request from the start (bot/retry.py).
                        "status": "received",
                        "attempts": 1,
                        "not_before": now + self._retry.lease,
                        "created_at": now,
                    },
                )
                return Received(
                    conversation,
                    stored.id,
                    duplicate=False,
                    behind=bool(stored.behind),
                    stored_language=conversation.language,
                )
        except Conflict:
            # Two deliveries of one message raced; the other one stored it. (A locked
            # database raises StoreUnavailable from the engine, bot/db_errors.py.)
            return await self.receive(
                sender=sender,
                channel=channel,
                text=text,
                customer_name=customer_name,
                external_id=external_id,
                timezone=timezone,
            )

    async def _conversation_for_update(
        self, run: Statements, sender, channel, name, timezone, now
    ) -> Conversation:
        # One UPDATE ... RETURNING, not a SELECT and an UPDATE: it takes the row (the order
        # of this conversation's messages holds on it) and reads it in one round trip.
        row = await run.first(
            _TOUCH_CONVERSATION,
            {"key": sender, "at": now, "name": name or None, "zone": timezone or None},
        )
        if row is not None:
            return Conversation(
                row.id, row.sender, row.channel, row.language, row.customer_name, row.timezone
            )
        created = await run.scalar(
            _NEW_CONVERSATION,
            {
                "sender": sender,
                "channel": channel,
                "customer_name": name,
                "timezone": timezone,
                "created_at": now,
                "updated_at": now,
            },
        )
        return Conversation(created, sender, channel, None, name, timezone)

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
        async with one_statement(self._engine) as connection:
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
        replies' seqs.

        Nothing is stored (and no seqs returned) when the message was answered meanwhile
        by another try, so that it is answered once; nor when a try fails for a message
        the customer was already told about (one apology per message, not one per retry).
        """
        answered = {"seq": message_seq, "outcome": status}
        if status != "failed" and self._engine.dialect.name == "postgresql":
            # One statement in place of BEGIN, UPDATE, INSERT and COMMIT: four round trips
            # on every message's way become one.
            async with statements(self._engine, writes="one") as run:
                if not replies:
                    await run.rows(_ANSWERED_ONCE, answered)
                    return []
                said = await run.rows(
                    _FINISH_WITH_REPLIES,
                    {
                        **answered,
                        "replies": replies,
                        "conversation": conversation_id,
                        "reply_language": language,
                        "at": utcnow(),
                    },
                )
                return sorted(row.id for row in said)
        now = utcnow()
        async with statements(self._engine, writes="several") as run:
            # The conditional UPDATE first: it takes the row (the write lock on SQLite), so
            # two tries finishing together cannot both pass.
            if not await run.rows(_ANSWERED_ONCE, answered):
                return []
            kind = None
            if status == "failed":
                kind = "failed"  # said while unanswered; not replayed once answered
                seq = {"seq": message_seq}
                attempts = await run.scalar(_ATTEMPTS, seq)
                retry_at = now + self._retry.backoff(attempts or 1)
                await run.rows(_RETRY_AT, {**seq, "retry_at": retry_at})
                if await run.scalar(_TOLD, seq):
                    return []
            return await _insert_bot_messages(
                run, conversation_id, replies, language, reply_to=message_seq, kind=kind
            )

    async def claim(self, seq: int, *, due_only: bool) -> Claimed | None:
        """Take an unanswered message to answer it now; None when it is answered, being
        answered by someone else (their lease runs), or (`due_only`) waiting for its retry.

        One UPDATE decides, so of two callers at most one gets it.
        """
        now = utcnow()
        waited = or_(messages.c.not_before.is_(None), messages.c.not_before <= now)
        free = or_(
            and_(messages.c.status == "received", waited),  # a crashed try, or never tried
            and_(messages.c.status == "failed", waited if due_only else true()),
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(messages)
                .where(messages.c.id == seq, messages.c.author == "customer", free)
                .values(
                    status="received",
                    attempts=func.coalesce(messages.c.attempts, 0) + 1,
                    not_before=now + self._retry.lease,
                )
            )
            if not result.rowcount:
                return None
            row = (
                await connection.execute(
                    select(
                        messages.c.text,
                        messages.c.external_id,
                        messages.c.attempts,
                        messages.c.created_at.label("stored_at"),
                        conversations,
                    )
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(messages.c.id == seq)
                )
            ).one()
        return Claimed(
            _conversation(row),
            seq,
            row.text,
            row.external_id,
            row.attempts,
            row.stored_at,
        )

    async def status(self, seq: int) -> str | None:
        """A customer message's status; None when it is gone (erased)."""
        async with reading(self._engine) as connection:
            return await connection.scalar(select(messages.c.status).where(messages.c.id == seq))

    async def unanswered(self, conversation_id: int, *, upto: int | None = None) -> list[int]:
        """The conversation's customer messages still without an answer, oldest first
        (those up to and including `upto` only, when given)."""
        query = select(messages.c.id).where(
            messages.c.conversation_id == conversation_id,
            messages.c.author == "customer",
            messages.c.status.in_(UNANSWERED),
        )
        if upto is not None:
            query = query.where(messages.c.id <= upto)
        async with reading(self._engine) as connection:
            return list(await connection.scalars(query.order_by(messages.c.id)))

    async def with_unanswered(self, now: datetime) -> list[int]:
        """Conversations with a message whose (re)try is due, longest waiting first."""
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(messages.c.conversation_id, func.min(messages.c.id).label("first"))
                .where(
                    messages.c.author == "customer",
                    messages.c.status.in_(UNANSWERED),
                    or_(messages.c.not_before.is_(None), messages.c.not_before <= now),
                )
                .group_by(messages.c.conversation_id)
                .order_by("first")
            )
            return [row.conversation_id for row in rows]

    async def last_bot_message_at(self, conversation_id: int) -> datetime | None:
        async with statements(self._engine) as run:
            return await run.scalar(_LAST_BOT_AT_ALONE, {"conversation": conversation_id})

    async def replies_to(self, conversation_id: int, seq: int) -> list[StoredMessage]:
        """What the bot answered customer message `seq`: once it has its answer, that
        answer (not the apology said while it waited); before, what it was told so far."""
        async with reading(self._engine) as connection:
            status = await connection.scalar(select(messages.c.status).where(messages.c.id == seq))
            rows = (
                await connection.execute(
                    select(messages)
                    .where(messages.c.reply_to == seq, messages.c.author == "bot")
                    .order_by(messages.c.id)
                )
            ).all()
        if not rows:  # answered before replies were linked to their message, or silently
            return await self.replies_after(conversation_id, seq)
        if status not in UNANSWERED:
            rows = [row for row in rows if row.status != "failed"]
        return [_stored(row) for row in rows]

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
        async with reading(self._engine) as connection:
            row = (
                await connection.execute(
                    select(conversations).where(conversations.c.sender == sender)
                )
            ).first()
        return None if row is None else _conversation(row)

    async def messages(self, sender: str, after: int = 0) -> list[StoredMessage] | None:
        conversation = await self.conversation(sender)
        if conversation is None:
            return None
        return await self._messages(conversation.id, after)

    async def _messages(self, conversation_id: int, after: int) -> list[StoredMessage]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id, messages.c.id > after)
                .order_by(messages.c.id)
            )
            return [_stored(row) for row in rows]

    async def said(self, seq: int) -> Said | None:
        """Message `seq` as the surveys and incident notices read it, after Rasa answered."""
        async with statements(self._engine) as run:
            row = await run.first(_SAID, {"seq": seq})
        return Said(*row) if row else None

    async def context(
        self, conversation_id: int, count: int
    ) -> tuple[list[StoredMessage], datetime | None]:
        """The latest `count` customer messages (oldest first) and when the bot last spoke,
        in one statement: the gateway needs both for every message."""
        async with statements(self._engine) as run:
            rows = await run.rows(_CONTEXT, {"conversation": conversation_id, "count": count})
        if not rows:
            return [], await self.last_bot_message_at(conversation_id)
        return [_stored(row) for row in reversed(rows)], rows[0].last_bot_at

    async def recent_customer_messages(
        self, conversation_id: int, count: int
    ) -> list[StoredMessage]:
        """The latest `count` customer messages, oldest first (context without the time)."""
        recent, _ = await self.context(conversation_id, count)
        return recent

    async def transcript(self, conversation_id: int, limit: int = 300) -> list[StoredMessage]:
        """The latest `limit` messages, oldest first."""
        async with reading(self._engine) as connection:
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
        async with statements(self._engine, writes="several") as run:
            return await _insert_bot_messages(run, conversation_id, texts, language)

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
    run: Statements,
    conversation_id: int,
    texts: list[str],
    language: str | None,
    reply_to: int | None = None,
    kind: str | None = None,
) -> list[int]:
    now = utcnow()
    seqs = []
    for said in texts:
        row = {
            "conversation_id": conversation_id,
            "author": "bot",
            "text": said,
            "language": language,
            "reply_to": reply_to,
            "status": kind,
            "created_at": now,
        }
        seqs.append(await run.scalar(_BOT_MESSAGE, row))
    return seqs


def _conversation(row) -> Conversation:
    return Conversation(
        row.id,
        row.sender,
        row.channel,
        row.language,
        row.customer_name,
        row.timezone,
    )


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
