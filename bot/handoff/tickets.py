"""Tickets in the SQL database: what a person has to pick up, and its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import agents, conversations, reading, ticket_notes, tickets, utcnow
from bot.errors import Conflict
from bot.prepared import Prepared, statements

OPEN = ("queued", "assigned")
STATUSES = ("queued", "assigned", "resolved")


@dataclass(frozen=True)
class OpenFigures:
    queued: dict[str, int]  # by the ticket's language
    assigned: int
    breached: int  # open, past the SLA, no agent has answered yet


# Hot tickets first, then oldest first.
_PRIORITY_RANK = {"hot": 0, "cold": 1}


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: int
    sender: str
    customer_name: str | None
    # The conversation's language now (it may have changed since the ticket opened).
    customer_language: str | None
    status: str
    reason: str
    intent: str | None
    priority: str
    priority_why: str | None
    language: str
    channel: str
    summary: str
    agent_id: int | None
    agent_name: str | None
    after_hours: bool
    follow_up_email: str | None
    sla_due_at: datetime
    created_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    csat: int | None
    sla_warn_at: datetime | None = None  # None for tickets opened before revision 0002

    @property
    def open(self) -> bool:
        return self.status in OPEN

    def queue_key(self) -> tuple:
        return (_PRIORITY_RANK.get(self.priority, 1), self.created_at, self.id)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "intent": self.intent,
            "priority": self.priority,
            "priority_why": self.priority_why,
            "language": self.language,
            "channel": self.channel,
            "customer": {
                "sender": self.sender,
                "name": self.customer_name,
                "language": self.customer_language or self.language,
            },
            "summary": self.summary,
            "agent": ({"id": self.agent_id, "name": self.agent_name} if self.agent_id else None),
            "after_hours": self.after_hours,
            "follow_up_email": self.follow_up_email,
            "sla_due_at": _iso(self.sla_due_at),
            "created_at": _iso(self.created_at),
            "assigned_at": _iso(self.assigned_at),
            "first_response_at": _iso(self.first_response_at),
            "resolved_at": _iso(self.resolved_at),
            "csat": self.csat,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


_COLUMNS = (
    tickets,
    conversations.c.sender,
    conversations.c.customer_name,
    conversations.c.language.label("customer_language"),
    agents.c.name.label("agent_name"),
)


def _query():
    return (
        select(*_COLUMNS)
        .join(conversations, conversations.c.id == tickets.c.conversation_id)
        .outerjoin(agents, agents.c.id == tickets.c.agent_id)
    )


# Asked for every customer message, so built once (see bot/store.py on why).
_OPEN_FOR = Prepared(
    _query()
    .where(tickets.c.conversation_id == bindparam("conversation"))
    .where(tickets.c.status.in_(OPEN))
    .order_by(tickets.c.id.desc())
)


def _ticket(row) -> Ticket:
    return Ticket(
        id=row.id,
        conversation_id=row.conversation_id,
        sender=row.sender,
        customer_name=row.customer_name,
        customer_language=row.customer_language,
        status=row.status,
        reason=row.reason,
        intent=row.intent,
        priority=row.priority,
        priority_why=row.priority_why,
        language=row.language,
        channel=row.channel,
        summary=row.summary,
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        after_hours=bool(row.after_hours),
        follow_up_email=row.follow_up_email,
        sla_due_at=row.sla_due_at,
        created_at=row.created_at,
        assigned_at=row.assigned_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        csat=row.csat,
        sla_warn_at=row.sla_warn_at,
    )


class TicketStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, **values) -> tuple[Ticket, bool]:
        """A new open ticket, True; or, when the conversation has one open already (two
        requests at once), that one, False. The database allows one open ticket per
        conversation (bot/db.py), so this holds across requests and replicas."""
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(tickets.insert().values(**values))
        except Conflict:  # the database's constraint, as bot/db_errors.py translates it
            existing = await self.open_for(values["conversation_id"])
            if existing is None:  # not the open-ticket rule (e.g. the conversation is gone)
                raise
            return existing, False
        return await self.get(result.inserted_primary_key[0]), True

    async def get(self, ticket_id: int) -> Ticket | None:
        async with reading(self._engine) as connection:
            row = (await connection.execute(_query().where(tickets.c.id == ticket_id))).first()
        return _ticket(row) if row else None

    async def open_for(self, conversation_id: int) -> Ticket | None:
        async with statements(self._engine) as run:
            row = await run.first(_OPEN_FOR, {"conversation": conversation_id})
        return _ticket(row) if row else None

    async def listed(self, status: str | None = None, resolved_limit: int = 50) -> list[Ticket]:
        """Open tickets (all of them) in queue order, then the latest resolved ones."""
        found: list[Ticket] = []
        async with reading(self._engine) as connection:
            if status in (None, *OPEN):
                wanted = OPEN if status is None else (status,)
                rows = await connection.execute(_query().where(tickets.c.status.in_(wanted)))
                found = sorted(
                    (_ticket(row) for row in rows),
                    key=lambda ticket: (STATUSES.index(ticket.status), ticket.queue_key()),
                )
            if status in (None, "resolved"):
                rows = await connection.execute(
                    _query()
                    .where(tickets.c.status == "resolved")
                    .order_by(tickets.c.resolved_at.desc())
                    .limit(resolved_limit)
                )
                found += [_ticket(row) for row in rows]
        return found

    async def of_conversation(self, conversation_id: int) -> list[Ticket]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                _query().where(tickets.c.conversation_id == conversation_id).order_by(tickets.c.id)
            )
            return [_ticket(row) for row in rows]

    async def position(self, ticket: Ticket) -> int:
        """1 for the next ticket an agent gets."""
        queued = await self.listed("queued")
        keys = [other.queue_key() for other in queued if other.id != ticket.id]
        return 1 + sum(key < ticket.queue_key() for key in keys)

    async def open_counts(self) -> dict[int, int]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(tickets.c.agent_id, func.count())
                .where(tickets.c.status == "assigned")
                .group_by(tickets.c.agent_id)
            )
            return {agent_id: count for agent_id, count in rows}

    async def open_figures(self, now: datetime) -> OpenFigures:
        """Counted by the database: /metrics asks on every scrape, queues can be long."""
        async with reading(self._engine) as connection:
            queued = await connection.execute(
                select(tickets.c.language, func.count())
                .where(tickets.c.status == "queued")
                .group_by(tickets.c.language)
            )
            assigned = await connection.scalar(
                select(func.count()).where(tickets.c.status == "assigned")
            )
            breached = await connection.scalar(
                select(func.count()).where(
                    tickets.c.status.in_(OPEN),
                    tickets.c.first_response_at.is_(None),
                    tickets.c.sla_due_at < now,
                )
            )
            return OpenFigures(dict(queued.all()), assigned or 0, breached or 0)

    async def sla_alerts_due(self, now: datetime) -> tuple[list[Ticket], list[Ticket]]:
        """(warnings, breaches) not yet alerted, for open tickets no agent has answered."""
        unanswered = and_(tickets.c.status.in_(OPEN), tickets.c.first_response_at.is_(None))
        async with reading(self._engine) as connection:
            warnings = await connection.execute(
                _query().where(
                    unanswered,
                    tickets.c.sla_warn_at <= now,
                    tickets.c.sla_due_at > now,
                    tickets.c.sla_warned_at.is_(None),
                )
            )
            warned = [_ticket(row) for row in warnings]
            breaches = await connection.execute(
                _query().where(
                    unanswered,
                    tickets.c.sla_due_at <= now,
                    tickets.c.sla_breach_alerted_at.is_(None),
                )
            )
            return warned, [_ticket(row) for row in breaches]

    async def claim_sla_alert(self, ticket_id: int, kind: str, now: datetime) -> bool:
        """Whether this caller sends the ticket's `kind` alert ("warning" or "breach"):
        the first to mark it does, so with several replicas exactly one sends it."""
        column = tickets.c.sla_warned_at if kind == "warning" else tickets.c.sla_breach_alerted_at
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(tickets)
                .where(tickets.c.id == ticket_id, column.is_(None))
                .values({column.name: now})
            )
        return result.rowcount == 1

    async def recent_handling_times(self, limit: int = 20) -> list[timedelta]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(tickets.c.assigned_at, tickets.c.resolved_at)
                .where(tickets.c.status == "resolved", tickets.c.assigned_at.is_not(None))
                .order_by(tickets.c.resolved_at.desc())
                .limit(limit)
            )
            return [resolved - assigned for assigned, resolved in rows if resolved > assigned]

    async def count_recent(self, intent: str, since: datetime) -> int:
        async with reading(self._engine) as connection:
            return await connection.scalar(
                select(func.count()).where(
                    tickets.c.intent == intent, tickets.c.created_at >= since
                )
            )

    async def assign(self, ticket_id: int, agent_id: int, *, steal: bool = False) -> bool:
        """Give a queued ticket (or one the agent holds) to the agent; False if taken."""
        now = utcnow()
        allowed = or_(
            tickets.c.status == "queued",
            and_(tickets.c.status == "assigned", tickets.c.agent_id == agent_id),
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(tickets)
                .where(tickets.c.id == ticket_id)
                .where(allowed if not steal else tickets.c.status.in_(OPEN))
                .values(
                    status="assigned",
                    agent_id=agent_id,
                    assigned_at=func.coalesce(tickets.c.assigned_at, now),
                )
            )
            if result.rowcount:
                await connection.execute(
                    update(agents).where(agents.c.id == agent_id).values(last_assigned_at=now)
                )
            return bool(result.rowcount)

    async def requeue(self, ticket_id: int, agent_id: int) -> bool:
        return await self._release(
            ticket_id, agent_id, status="queued", agent_id=None, assigned_at=None
        )

    async def resolve(self, ticket_id: int, agent_id: int) -> bool:
        """Close the agent's ticket (the rating question is bot/surveys/')."""
        return await self._release(ticket_id, agent_id, status="resolved", resolved_at=utcnow())

    async def _release(self, ticket_id: int, holder: int, **values) -> bool:
        """Change a ticket the agent `holder` holds; False when it is not theirs (any more)."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(tickets)
                .where(
                    tickets.c.id == ticket_id,
                    tickets.c.status == "assigned",
                    tickets.c.agent_id == holder,
                )
                .values(**values)
            )
            return bool(result.rowcount)

    async def responded(self, ticket_id: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(tickets)
                .where(tickets.c.id == ticket_id, tickets.c.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            )

    async def set_follow_up(self, ticket_id: int, email: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(tickets).where(tickets.c.id == ticket_id).values(follow_up_email=email)
            )

    async def add_note(self, ticket_id: int, agent_id: int, text: str) -> dict:
        now = utcnow()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                ticket_notes.insert().values(
                    ticket_id=ticket_id, agent_id=agent_id, text=text, created_at=now
                )
            )
        return {"id": result.inserted_primary_key[0], "text": text, "ts": _iso(now)}

    async def notes(self, ticket_id: int) -> list[dict]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(ticket_notes, agents.c.name)
                .join(agents, agents.c.id == ticket_notes.c.agent_id)
                .where(ticket_notes.c.ticket_id == ticket_id)
                .order_by(ticket_notes.c.id)
            )
            return [
                {"id": row.id, "agent": row.name, "text": row.text, "ts": _iso(row.created_at)}
                for row in rows
            ]
