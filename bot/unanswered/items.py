"""The customer messages the bot did not understand in a period, read from the database.

Three kinds (`why`): the bot said it did not understand (`fallback`, the answer
bot/outcomes.py recorded); it answered, but the NLU was unsure of the intent
(`low_confidence`); the conversation went to a person right after one or more fallbacks
(`handoff_after_fallback`: the customer gave up on the bot). A message is one item, of the
strongest kind it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages, reading, tickets
from bot.metrics.query import Query

# Below this the NLU was unsure. config.yml's fallback classifier (threshold 0.25) only
# catches near-random guesses; answers between the two were given but may well have been
# wrong, what a content editor most wants to look at.
LOW_CONFIDENCE = 0.5
# At most this many messages are read per period (the newest), so that a report or an API
# call stays bounded however much went wrong; the output says when there were more.
MAX_ITEMS = 5000
# A ticket counts as "after a fallback" when one of the customer's last this many messages
# before it (the one that asked for a person, and the one before) got a fallback.
HANDOFF_LOOKBACK = 2
# ... and only within one session: a fallback a day earlier is another conversation.
DEFAULT_SESSION_MINUTES = 60

# Message ids asked for per statement (SQLite and asyncpg both take thousands of parameters).
_CHUNK = 1000

WHYS = ("handoff_after_fallback", "fallback", "low_confidence")  # strongest first


@dataclass(frozen=True)
class Item:
    id: int  # the message's seq
    text: str
    pivot_text: str | None  # what Rasa saw, for a language it was not trained in
    language: str  # "?" when the message has none
    channel: str
    when: datetime  # naive UTC
    why: str
    intent: str | None  # what the NLU guessed (a ticket's intent when it guessed none)
    confidence: float | None


@dataclass(frozen=True)
class Found:
    query: Query
    items: list[Item]  # newest first
    truncated: bool  # there were more than MAX_ITEMS; the newest MAX_ITEMS are here


def _stronger(old: Item | None, new: Item) -> Item:
    return new if old is None or WHYS.index(new.why) < WHYS.index(old.why) else old


_COLUMNS = (
    messages.c.id,
    messages.c.text,
    messages.c.pivot_text,
    messages.c.language,
    conversations.c.channel,
    messages.c.created_at,
    messages.c.intent,
    messages.c.intent_confidence,
    messages.c.answer,
)


def _item(row, why: str, language: str | None = None, intent: str | None = None) -> Item:
    return Item(
        id=row.id,
        text=row.text,
        pivot_text=row.pivot_text,
        language=row.language or language or "?",
        channel=row.channel,
        when=row.created_at,
        why=why,
        intent=row.intent or intent,
        confidence=row.intent_confidence,
    )


async def load_unanswered(
    engine: AsyncEngine,
    query: Query,
    session_minutes: int = DEFAULT_SESSION_MINUTES,
    max_items: int = MAX_ITEMS,
) -> Found:
    """The period's not-understood messages in the query's slice, newest first."""
    misunderstood = or_(
        messages.c.answer == "fallback", messages.c.intent_confidence < LOW_CONFIDENCE
    )
    selected = (
        select(*_COLUMNS)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            messages.c.author == "customer",
            messages.c.created_at >= query.start,
            messages.c.created_at < query.end,
            misunderstood,
        )
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(max_items + 1)
    )
    if query.language is not None:
        selected = selected.where(messages.c.language == query.language)
    if query.channel is not None:
        selected = selected.where(conversations.c.channel == query.channel)
    found: dict[int, Item] = {}
    truncated = False
    async with reading(engine, scans=True) as connection:
        rows = (await connection.execute(selected)).all()
        truncated = len(rows) > max_items
        for row in rows[:max_items]:
            why = "fallback" if row.answer == "fallback" else "low_confidence"
            found[row.id] = _item(row, why)
        for item in await _handoffs(connection, query, session_minutes, max_items):
            found[item.id] = _stronger(found.get(item.id), item)
    items = sorted(found.values(), key=lambda i: (i.when, i.id), reverse=True)
    truncated = truncated or len(items) > max_items
    return Found(query, items[:max_items], truncated)


async def _handoffs(connection, query: Query, session_minutes: int, limit: int) -> list[Item]:
    """For each ticket opened in the period: the customer's message that led to it, when
    it or the one before it (within a session's length before the ticket) got a fallback.

    Two statements whatever the number of tickets: the tickets with the ids of their last
    HANDOFF_LOOKBACK customer messages (correlated subqueries on the conversation index),
    then those messages."""

    def before_ticket(offset: int):
        return (
            select(messages.c.id)
            .where(
                messages.c.conversation_id == tickets.c.conversation_id,
                messages.c.author == "customer",
                messages.c.created_at <= tickets.c.created_at,
            )
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(1)
            .offset(offset)
            .correlate(tickets)
            .scalar_subquery()
        )

    opened = select(
        tickets.c.created_at,
        tickets.c.intent,
        tickets.c.language,
        *(before_ticket(n).label(f"before_{n}") for n in range(HANDOFF_LOOKBACK)),
    ).where(tickets.c.created_at >= query.start, tickets.c.created_at < query.end)
    if query.channel is not None:
        opened = opened.where(tickets.c.channel == query.channel)
    opened = opened.order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(limit)
    found_tickets = (await connection.execute(opened)).all()
    wanted = {getattr(t, f"before_{n}") for t in found_tickets for n in range(HANDOFF_LOOKBACK)} - {
        None
    }
    rows = {}
    ids = sorted(wanted)
    for chunk in range(0, len(ids), _CHUNK):
        selected = (
            select(*_COLUMNS)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.id.in_(ids[chunk : chunk + _CHUNK]))
        )
        rows.update((row.id, row) for row in await connection.execute(selected))
    session = timedelta(minutes=session_minutes)
    found: list[Item] = []
    for ticket in found_tickets:
        before = [
            rows[seq]
            for n in range(HANDOFF_LOOKBACK)
            if (seq := getattr(ticket, f"before_{n}")) in rows
            and rows[seq].created_at > ticket.created_at - session
        ]
        if not any(row.answer == "fallback" for row in before):
            continue
        item = _item(before[0], "handoff_after_fallback", ticket.language, ticket.intent)
        if query.covers(item.when) and query.wants(item.language, item.channel):
            found.append(item)
    return found
