"""Incidents in the database: the notice, its texts per language, the customers told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import (
    conversations,
    incident_customers,
    incident_texts,
    incidents,
    messages,
    reading,
)
from bot.errors import Conflict, StoreConflict
from bot.prepared import Prepared, statements
from bot.store import Conversation

STATUSES = ("open", "closed")
# Asked for every customer message about an intent that counts, so built once (see
# bot/store.py on why).
_OPEN_FOR = Prepared(
    select(incidents).where(incidents.c.intent == bindparam("about"), incidents.c.status == "open")
)
NOTICE, FIXED = "notice", "fixed"
LEAD, MACHINE = "lead", "machine"


@dataclass(frozen=True)
class Incident:
    id: int
    intent: str
    status: str
    text: str
    language: str
    opened_by: int
    opened_at: datetime
    closed_by: int | None = None
    closed_at: datetime | None = None
    close_text: str | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "intent": self.intent,
            "status": self.status,
            "text": self.text,
            "language": self.language,
            "opened_by": self.opened_by,
            "opened_at": _iso(self.opened_at),
            "closed_by": self.closed_by,
            "closed_at": _iso(self.closed_at),
            "close_text": self.close_text,
        }


@dataclass(frozen=True)
class Told:
    """A customer told of an incident, in the language they were told in."""

    conversation: Conversation
    language: str


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _incident(row) -> Incident:
    return Incident(
        row.id,
        row.intent,
        row.status,
        row.text,
        row.language,
        row.opened_by,
        row.opened_at,
        row.closed_by,
        row.closed_at,
        row.close_text,
    )


def _conversation(row) -> Conversation:
    return Conversation(
        row.id, row.sender, row.channel, row.language, row.customer_name, row.timezone
    )


class IncidentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        intent: str,
        text: str,
        language: str,
        agent_id: int,
        texts: dict[str, tuple[str, str]],
        now: datetime,
    ) -> Incident:
        """A new open incident with its notice per language ({language: (text, origin)}),
        in one transaction. Conflict when one is open for the intent already."""
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    insert(incidents).values(
                        intent=intent,
                        status="open",
                        text=text,
                        language=language,
                        opened_by=agent_id,
                        opened_at=now,
                    )
                )
                incident_id = result.inserted_primary_key[0]
                await _insert_texts(connection, incident_id, NOTICE, texts)
        except StoreConflict:  # the partial unique index: another lead was first
            raise Conflict(f"an incident about {intent} is open already; close it first") from None
        return await self.get(incident_id)

    async def get(self, incident_id: int) -> Incident | None:
        async with reading(self._engine) as connection:
            row = (
                await connection.execute(select(incidents).where(incidents.c.id == incident_id))
            ).first()
        return None if row is None else _incident(row)

    async def open_for(self, intent: str) -> Incident | None:
        async with statements(self._engine) as run:
            row = await run.first(_OPEN_FOR, {"about": intent})
        return None if row is None else _incident(row)

    async def listed(self, status: str | None = None) -> list[Incident]:
        query = select(incidents).order_by(incidents.c.id.desc()).limit(200)
        if status is not None:
            query = query.where(incidents.c.status == status)
        async with reading(self._engine) as connection:
            return [_incident(row) for row in await connection.execute(query)]

    async def told_counts(self, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(incident_customers.c.incident_id, func.count())
                .where(incident_customers.c.incident_id.in_(ids))
                .group_by(incident_customers.c.incident_id)
            )
            return {incident_id: count for incident_id, count in rows}

    async def texts(self, incident_id: int, kind: str) -> dict[str, str]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(incident_texts.c.language, incident_texts.c.text).where(
                    incident_texts.c.incident_id == incident_id, incident_texts.c.kind == kind
                )
            )
            return dict(rows.all())

    async def add_texts(
        self, incident_id: int, kind: str, texts: dict[str, tuple[str, str]]
    ) -> None:
        """Texts for more languages; one another request stored meanwhile stays."""
        for language, value in texts.items():
            try:
                async with self._engine.begin() as connection:
                    await _insert_texts(connection, incident_id, kind, {language: value})
            except StoreConflict:
                pass

    async def claim_customer(
        self, incident_id: int, conversation_id: int, language: str, now: datetime
    ) -> bool:
        """Whether this caller tells the customer (nobody did, nobody does at the same time)."""
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(incident_customers).values(
                        incident_id=incident_id,
                        conversation_id=conversation_id,
                        language=language,
                        told_at=now,
                    )
                )
        except StoreConflict:  # told already, or the customer was erased meanwhile
            return False
        return True

    async def asked_recently(self, intent: str, since: datetime) -> list[Conversation]:
        """Conversations whose customer asked about `intent` since `since` (for a push;
        the claim of each, `claim_customer`, keeps anyone from being told twice)."""
        asked = (
            select(messages.c.conversation_id)
            .where(
                messages.c.author == "customer",
                messages.c.intent == intent,
                messages.c.created_at >= since,
            )
            .distinct()
        )
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(conversations)
                .where(conversations.c.id.in_(asked))
                .order_by(conversations.c.id)
            )
            return [_conversation(row) for row in rows]

    async def told(self, incident_id: int) -> list[Told]:
        """Customers told of the incident and not yet told that it is fixed."""
        async with reading(self._engine) as connection:
            rows = await connection.execute(
                select(conversations, incident_customers.c.language.label("told_in"))
                .join(
                    incident_customers,
                    and_(
                        incident_customers.c.conversation_id == conversations.c.id,
                        incident_customers.c.incident_id == incident_id,
                    ),
                )
                .where(incident_customers.c.fixed_told_at.is_(None))
                .order_by(conversations.c.id)
            )
            return [Told(_conversation(row), row.told_in) for row in rows]

    async def close(
        self, incident_id: int, agent_id: int, close_text: str | None, texts: dict, now: datetime
    ) -> bool:
        """Close it, with the closing words per language; False when it was closed already."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(incidents)
                .where(incidents.c.id == incident_id, incidents.c.status == "open")
                .values(status="closed", closed_by=agent_id, closed_at=now, close_text=close_text)
            )
            if result.rowcount != 1:
                return False
            await _insert_texts(connection, incident_id, FIXED, texts)
        return True

    async def claim_fixed(self, incident_id: int, conversation_id: int, now: datetime) -> bool:
        """Whether this caller tells the customer it is fixed (once, whoever closes)."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(incident_customers)
                .where(
                    incident_customers.c.incident_id == incident_id,
                    incident_customers.c.conversation_id == conversation_id,
                    incident_customers.c.fixed_told_at.is_(None),
                )
                .values(fixed_told_at=now)
            )
        return result.rowcount == 1


async def _insert_texts(connection, incident_id: int, kind: str, texts: dict) -> None:
    for language, (text, origin) in texts.items():
        await connection.execute(
            insert(incident_texts).values(
                incident_id=incident_id, kind=kind, language=language, text=text, origin=origin
            )
        )
