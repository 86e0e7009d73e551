"""Support agents: who they are, what they speak, when they work, how they sign in.

An agent has an API token (shown once by `python -m bot agents add`) and a console
password; only hashes are stored. "Online" means seen recently (an API call or the
console's live connection) and inside their working hours.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import agents, reading, utcnow
from bot.errors import Conflict, Forbidden, Rejected
from bot.handoff.hours import ALWAYS, WorkingHours
from tolk_core.language_names import NAMES

# scrypt parameters: ~16 MiB and a few tens of milliseconds per login on this machine.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# An agent answers customers; a lead also publishes incident notices to every affected
# customer and reads the team's dashboard (bot/incidents/api.py, bot/metrics/api.py).
ROLES = ("agent", "lead")


class AgentError(Rejected, ValueError):
    """An agent that cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    languages: tuple[str, ...]
    timezone: str
    hours: str
    max_tickets: int
    last_seen_at: datetime | None
    last_assigned_at: datetime | None
    role: str = "agent"

    @property
    def lead(self) -> bool:
        return self.role == "lead"

    @property
    def language(self) -> str:
        """The language the agent reads and writes by default."""
        return self.languages[0]

    def working_hours(self) -> WorkingHours:
        return WorkingHours.parse(self.hours, self.timezone)

    def online(self, now: datetime, presence: timedelta) -> bool:
        seen = self.last_seen_at is not None and now - self.last_seen_at <= presence
        return seen and self.working_hours().is_open(now)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "languages": list(self.languages),
            "role": self.role,
        }


@dataclass(frozen=True)
class NewAgent:
    agent: Agent
    token: str
    password: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    given = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(given.hex(), digest)


class AgentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        name: str,
        languages: tuple[str, ...],
        *,
        password: str | None = None,
        timezone: str = "UTC",
        hours: str = ALWAYS,
        max_tickets: int = 3,
        role: str = "agent",
    ) -> NewAgent:
        name = name.strip()
        if not name or len(name) > 100:
            raise AgentError("the name must be 1 to 100 characters")
        unknown = [code for code in languages if code not in NAMES]
        if not languages or unknown:
            raise AgentError(f"unknown language(s): {', '.join(unknown) or '(none given)'}")
        WorkingHours.parse(hours, timezone)  # says what is wrong before anything is stored
        if max_tickets < 1:
            raise AgentError("--max-tickets must be at least 1")
        if password is not None and len(password) < 10:
            raise AgentError("the password must be at least 10 characters")
        _check_role(role)
        token = secrets.token_urlsafe(32)
        password = password or secrets.token_urlsafe(12)
        now = utcnow()
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    agents.insert().values(
                        name=name,
                        languages=",".join(languages),
                        token_hash=token_hash(token),
                        password_hash=hash_password(password),
                        timezone=timezone,
                        hours=hours,
                        max_tickets=max_tickets,
                        created_at=now,
                        role=role,
                    )
                )
        except Conflict:  # the unique name (bot/db_errors.py translates the database's error)
            raise AgentError(f"an agent called {name!r} exists already") from None
        agent = Agent(
            result.inserted_primary_key[0],
            name,
            languages,
            timezone,
            hours,
            max_tickets,
            None,
            None,
            role,
        )
        return NewAgent(agent, token, password)

    async def set_role(self, name: str, role: str) -> Agent:
        """Make the agent called `name` a lead or back an agent."""
        _check_role(role)
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(agents).where(agents.c.name == name.strip()).values(role=role)
            )
        agent = await self._one(agents.c.name == name.strip())
        if changed.rowcount == 0 or agent is None:
            raise AgentError(f"no agent called {name.strip()!r} (python -m bot agents list)")
        return agent

    async def by_token(self, token: str) -> Agent | None:
        return await self._one(agents.c.token_hash == token_hash(token))

    async def by_id(self, agent_id: int) -> Agent | None:
        return await self._one(agents.c.id == agent_id)

    async def login(self, name: str, password: str) -> Agent | None:
        async with reading(self._engine) as connection:
            row = (await connection.execute(select(agents).where(agents.c.name == name))).first()
        # An unknown name costs one scrypt run like a wrong password, so names cannot be
        # probed by timing; scrypt runs off the event loop.
        stored = row.password_hash if row is not None else _unknown_agent_hash()
        matches = await asyncio.to_thread(password_matches, password, stored)
        return _agent(row) if row is not None and matches else None

    async def all(self) -> list[Agent]:
        async with reading(self._engine) as connection:
            rows = await connection.execute(select(agents).order_by(agents.c.id))
            return [_agent(row) for row in rows]

    async def touch(self, agent_id: int, now: datetime | None = None) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(agents).where(agents.c.id == agent_id).values(last_seen_at=now or utcnow())
            )

    async def _one(self, condition) -> Agent | None:
        async with reading(self._engine) as connection:
            row = (await connection.execute(select(agents).where(condition))).first()
        return _agent(row) if row else None


def require_lead(agent: Agent, doing: str) -> None:
    """Only a lead may do `doing` ("publish incident notices")."""
    if not agent.lead:
        raise Forbidden(
            f"only a lead may {doing}; a lead can make you one "
            f"(python -m bot agents role --name {agent.name!r} --role lead)"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AgentError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")


@functools.cache
def _unknown_agent_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _agent(row) -> Agent:
    return Agent(
        id=row.id,
        name=row.name,
        languages=tuple(row.languages.split(",")),
        timezone=row.timezone,
        hours=row.hours,
        max_tickets=row.max_tickets,
        last_seen_at=row.last_seen_at,
        last_assigned_at=row.last_assigned_at,
        role=row.role,
    )
