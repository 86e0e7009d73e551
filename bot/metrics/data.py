"""What the figures are computed from, read from the database for one `Query`.

Sessions are cut from the stored messages (bot/sessions.py) rather than stored: the rule
is the one the surveys use, and it applies to data recorded before the figures existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, reading, surveys, tickets
from bot.metrics.query import Query
from bot.outcomes import ANSWERED
from bot.sessions import split

# Intents that say nothing about what the customer needs: not a session's topic.
GENERIC_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "change_language",
        "out_of_scope",
        "nlu_fallback",
        "request_human",
        "complain",
        "leave_feedback",
        "inform",
    }
)
# First-contact resolution looks this far past a session for the customer coming back.
RETURN_WINDOW = timedelta(days=7)
# Messages are read from this long before the period, so that a session's start is seen.
_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Message:
    author: str
    created_at: datetime
    language: str | None
    status: str | None
    intent: str | None
    answer: str | None


@dataclass
class Session:
    conversation_id: int
    channel: str
    language: str | None
    started_at: datetime
    messages: list[Message]
    # Tickets opened during the session (their reasons and intents).
    tickets: list[TicketRow] = field(default_factory=list)

    @property
    def first_reply_at(self) -> datetime | None:
        """The bot's first answer in the session (not an apology said while it was down)."""
        return next(
            (m.created_at for m in self.messages if m.author == "bot" and m.status != "failed"),
            None,
        )

    @property
    def answered(self) -> bool:
        return any(m.answer in ANSWERED for m in self.messages if m.author == "customer")

    @property
    def handed_off(self) -> bool:
        return bool(self.tickets)

    @property
    def topic(self) -> str | None:
        """What the customer came for: the first specific intent of theirs, else the
        ticket's."""
        for message in self.messages:
            if message.author == "customer" and message.intent not in GENERIC_INTENTS:
                if message.intent is not None:
                    return message.intent
        for ticket in self.tickets:
            if ticket.intent is not None and ticket.intent not in GENERIC_INTENTS:
                return ticket.intent
        return None


@dataclass(frozen=True)
class TicketRow:
    id: int
    conversation_id: int
    reason: str
    intent: str | None
    priority: str
    language: str
    channel: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    sla_due_at: datetime


@dataclass(frozen=True)
class SurveyRow:
    kind: str
    occasion: str
    language: str
    channel: str
    status: str
    score: int | None
    reason: str | None
    reason_en: str | None
    asked_at: datetime


@dataclass(frozen=True)
class CustomerMessage:
    created_at: datetime
    language: str | None
    channel: str
    status: str | None
    answer: str | None


@dataclass
class Sessions:
    """The sessions that started in the period (`in_period`) and every session of the
    same conversations up to RETURN_WINDOW after it (`all`, for coming back)."""

    in_period: list[Session]
    all: list[Session]


async def load_sessions(engine: AsyncEngine, query: Query, session_minutes: int) -> Sessions:
    window_start, window_end = query.start - _LOOKBACK, query.end + RETURN_WINDOW
    talked = (
        select(messages.c.conversation_id)
        .where(
            messages.c.author == "customer",
            messages.c.created_at >= query.start,
            messages.c.created_at < query.end,
        )
        .distinct()
    )
    if query.channel is not None:
        talked = talked.join(conversations, conversations.c.id == messages.c.conversation_id).where(
            conversations.c.channel == query.channel
        )
    async with reading(engine, scans=True) as connection:
        ids = list(await connection.scalars(talked))
        rows = (
            await connection.execute(
                select(
                    messages.c.conversation_id,
                    conversations.c.channel,
                    conversations.c.language.label("conversation_language"),
                    messages.c.author,
                    messages.c.created_at,
                    messages.c.language,
                    messages.c.status,
                    messages.c.intent,
                    messages.c.answer,
                )
                .join(conversations, conversations.c.id == messages.c.conversation_id)
                .where(
                    messages.c.conversation_id.in_(ids),
                    messages.c.created_at >= window_start,
                    messages.c.created_at < window_end,
                )
                .order_by(messages.c.conversation_id, messages.c.created_at, messages.c.id)
            )
        ).all()
        ticket_rows = await _tickets(
            connection,
            tickets.c.conversation_id.in_(ids),
            tickets.c.created_at >= window_start,
            tickets.c.created_at < window_end,
        )
    by_conversation: dict[int, list] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    opened: dict[int, list[TicketRow]] = {}
    for ticket in ticket_rows:
        opened.setdefault(ticket.conversation_id, []).append(ticket)
    every: list[Session] = []
    for conversation_id, said in by_conversation.items():
        listed = [
            Message(r.author, r.created_at, r.language, r.status, r.intent, r.answer) for r in said
        ]
        cut = [part for part in split(listed, session_minutes) if part]
        starts = [part[0].created_at for part in cut]
        for number, part in enumerate(cut):
            if part[0].author != "customer":
                continue  # notices pushed before the customer wrote: not a session
            until = starts[number + 1] if number + 1 < len(starts) else window_end
            first = part[0]
            every.append(
                Session(
                    conversation_id,
                    said[0].channel,
                    first.language or said[0].conversation_language,
                    first.created_at,
                    part,
                    [
                        t
                        for t in opened.get(conversation_id, [])
                        if first.created_at <= t.created_at < until
                    ],
                )
            )
    in_period = [
        s for s in every if query.covers(s.started_at) and query.wants(s.language, s.channel)
    ]
    return Sessions(in_period, every)


async def _tickets(connection, *where) -> list[TicketRow]:
    rows = await connection.execute(
        select(
            tickets.c.id,
            tickets.c.conversation_id,
            tickets.c.reason,
            tickets.c.intent,
            tickets.c.priority,
            tickets.c.language,
            tickets.c.channel,
            tickets.c.created_at,
            tickets.c.first_response_at,
            tickets.c.resolved_at,
            tickets.c.sla_due_at,
        )
        .where(*where)
        .order_by(tickets.c.id)
    )
    return [TicketRow(*row) for row in rows]


async def load_tickets(engine: AsyncEngine, query: Query, *, by: str = "created_at") -> list:
    """Tickets whose `by` moment (created_at, resolved_at) is in the period and slice."""
    moment = tickets.c[by]
    async with reading(engine, scans=True) as connection:
        found = await _tickets(connection, moment >= query.start, moment < query.end)
    return [t for t in found if query.wants(t.language, t.channel)]


async def load_surveys(engine: AsyncEngine, query: Query) -> list[SurveyRow]:
    """Survey questions asked in the period, in the slice."""
    async with reading(engine, scans=True) as connection:
        rows = await connection.execute(
            select(
                surveys.c.kind,
                surveys.c.occasion,
                surveys.c.language,
                surveys.c.channel,
                surveys.c.status,
                surveys.c.score,
                surveys.c.reason,
                surveys.c.reason_en,
                surveys.c.asked_at,
            )
            .where(surveys.c.asked_at >= query.start, surveys.c.asked_at < query.end)
            .order_by(surveys.c.id)
        )
        found = [SurveyRow(*row) for row in rows]
    return [s for s in found if query.wants(s.language, s.channel)]


async def load_customer_messages(engine: AsyncEngine, query: Query) -> list[CustomerMessage]:
    async with reading(engine, scans=True) as connection:
        rows = await connection.execute(
            select(
                messages.c.created_at,
                messages.c.language,
                conversations.c.channel,
                messages.c.status,
                messages.c.answer,
            )
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                messages.c.author == "customer",
                messages.c.created_at >= query.start,
                messages.c.created_at < query.end,
            )
        )
        found = [CustomerMessage(*row) for row in rows]
    return [m for m in found if query.wants(m.language, m.channel)]
