"""Server-side console sessions: a random id in an HttpOnly cookie, a CSRF token per session.

Only a hash of the session id is stored, so a copy of the database signs no one in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import console_sessions, reading, utcnow
from bot.tls import came_over_tls

COOKIE = "tolk_console"
CSRF_HEADER = "X-CSRF-Token"
LIFETIME = timedelta(hours=12)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Session:
    agent_id: int
    csrf_token: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start(self, agent_id: int) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(agent_id, secrets.token_urlsafe(32))
        now = utcnow()
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(console_sessions).where(console_sessions.c.expires_at < now)
            )
            await connection.execute(
                console_sessions.insert().values(
                    token_hash=_hash(session_id),
                    agent_id=agent_id,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
        return session_id, session

    async def find(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        async with reading(self._engine) as connection:
            row = (
                await connection.execute(
                    select(console_sessions).where(
                        console_sessions.c.token_hash == _hash(session_id),
                        console_sessions.c.expires_at > utcnow(),
                    )
                )
            ).first()
        return Session(row.agent_id, row.csrf_token) if row else None

    async def end(self, session_id: str | None) -> None:
        if not session_id:
            return
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(console_sessions).where(console_sessions.c.token_hash == _hash(session_id))
            )

    async def for_request(self, request: web.Request) -> Session | None:
        """The request's session; for unsafe methods only with the matching CSRF header."""
        session = await self.find(request.cookies.get(COOKIE))
        if session is None:
            return None
        if request.method in UNSAFE:
            given = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(given.encode(), session.csrf_token.encode()):
                raise web.HTTPForbidden(reason="missing or wrong CSRF token; reload the console")
        return session


def set_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=came_over_tls(request),
        path="/",
    )
