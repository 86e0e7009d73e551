"""The `surveys` table: every question asked, its state and its answer (bot/db.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import messages, surveys, tickets, utcnow
from bot.prepared import Prepared, statements
from bot.store import Said

# A question still waiting for its answer ("why" is NPS's follow-up).
OPEN = ("asked", "why")

# Asked for every customer message, so built once (see bot/store.py on why).
_PENDING = Prepared(
    select(surveys)
    .where(surveys.c.conversation_id == bindparam("conversation"))
    .where(surveys.c.status.in_(OPEN))
    .order_by(surveys.c.id.desc())
)
# Read after an account answer and at the end of a conversation, which is often.
_RECENT = Prepared(
    select(messages.c.author, messages.c.created_at, messages.c.intent, messages.c.answer)
    .where(messages.c.conversation_id == bindparam("conversation"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("count", type_=Integer))
)
_ASKED_SINCE = exists().where(
    surveys.c.conversation_id == bindparam("conversation"),
    surveys.c.asked_at >= bindparam("since", type_=DateTime),
)
_ANY_ASKED_SINCE = Prepared(select(_ASKED_SINCE))
_KIND_ASKED_SINCE = Prepared(select(_ASKED_SINCE.where(surveys.c.kind == bindparam("kind"))))
_TICKET_SINCE = Prepared(
    select(
        exists().where(
            tickets.c.conversation_id == bindparam("conversation"),
            tickets.c.created_at >= bindparam("since", type_=DateTime),
        )
    )
)


@dataclass(frozen=True)
class Pending:
    id: int
    kind: str
    occasion: str
    ticket_id: int | None
    language: str
    status: str
    asked_at: datetime


class SurveyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ask(
        self,
        conversation_id: int,
        kind: str,
        occasion: str,
        language: str,
        channel: str,
        ticket_id: int | None = None,
    ) -> int:
        """A new question; one still open in the conversation is dropped (one at a time)."""
        now = utcnow()
        async with self._engine.begin() as connection:
            await connection.execute(
                update(surveys)
                .where(surveys.c.conversation_id == conversation_id, surveys.c.status.in_(OPEN))
                .values(status="dropped")
            )
            result = await connection.execute(
                surveys.insert().values(
                    conversation_id=conversation_id,
                    kind=kind,
                    occasion=occasion,
                    ticket_id=ticket_id,
                    language=language,
                    channel=channel,
                    status="asked",
                    asked_at=now,
                )
            )
            return result.inserted_primary_key[0]

    async def pending(self, conversation_id: int) -> Pending | None:
        async with statements(self._engine) as run:
            row = await run.first(_PENDING, {"conversation": conversation_id})
        if row is None:
            return None
        return Pending(
            row.id, row.kind, row.occasion, row.ticket_id, row.language, row.status, row.asked_at
        )

    async def close(self, survey_id: int, status: str) -> None:
        """skipped | dropped; or answered for an NPS whose "why?" went unanswered."""
        await self._set(survey_id, status=status)

    async def score(self, survey_id: int, score: int, *, follow_up: bool) -> None:
        """Store the score; with a follow-up the question stays open for the reason."""
        values: dict = {"score": score, "answered_at": utcnow()}
        values["status"] = "why" if follow_up else "answered"
        async with self._engine.begin() as connection:
            await connection.execute(
                update(surveys)
                .where(surveys.c.id == survey_id, surveys.c.status.in_(OPEN))
                .values(**values)
            )
            # The console shows a ticket's rating (tickets.csat), as before surveys.
            ticket_id = await connection.scalar(
                select(surveys.c.ticket_id).where(
                    surveys.c.id == survey_id, surveys.c.kind == "csat"
                )
            )
            if ticket_id is not None:
                await connection.execute(
                    update(tickets).where(tickets.c.id == ticket_id).values(csat=score)
                )

    async def reason(self, survey_id: int, text: str, english: str | None) -> None:
        await self._set(survey_id, status="answered", reason=text, reason_en=english)

    async def _set(self, survey_id: int, **values) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(surveys)
                .where(surveys.c.id == survey_id, surveys.c.status.in_(OPEN))
                .values(**values)
            )

    async def asked_since(
        self, conversation_id: int, since: datetime, kind: str | None = None
    ) -> bool:
        parameters = {"conversation": conversation_id, "since": since}
        async with statements(self._engine) as run:
            if kind is None:
                return bool(await run.scalar(_ANY_ASKED_SINCE, parameters))
            return bool(await run.scalar(_KIND_ASKED_SINCE, {**parameters, "kind": kind}))

    async def ticket_since(self, conversation_id: int, since: datetime) -> bool:
        async with statements(self._engine) as run:
            return bool(
                await run.scalar(_TICKET_SINCE, {"conversation": conversation_id, "since": since})
            )

    async def recent(self, conversation_id: int, limit: int = 500) -> list[Said]:
        """The conversation's latest messages, oldest first (the current session is among
        them unless it is longer than `limit`)."""
        async with statements(self._engine) as run:
            rows = await run.rows(_RECENT, {"conversation": conversation_id, "count": limit})
        return [Said(*row) for row in reversed(rows)]
