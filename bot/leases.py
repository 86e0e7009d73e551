"""Which gateway replica runs each background job: a lease per job in the database.

With several replicas every process starts the same sweeps (bot/app.py). Each round
first takes or renews the job's lease (`leases` table: name, holder, until when); only the
holder runs it. A holder that stops gives its leases back; one that dies loses them when
they expire, and another replica's next round takes over. Taking a lease is one UPDATE
(renew, or take an expired one) or one INSERT (a job nobody ran yet): the database
decides between replicas that try at the same moment.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import leases, utcnow
from bot.errors import StoreConflict

log = logging.getLogger(__name__)


def holder_name() -> str:
    """This process, recognisably: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Leases:
    def __init__(
        self,
        engine: AsyncEngine,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.holder = holder or holder_name()
        self._clock = clock
        self._held: set[str] = set()

    async def hold(self, name: str, seconds: float) -> bool:
        """Whether this process holds `name` for the next `seconds` (taken or renewed)."""
        now = self._clock()
        until = now + timedelta(seconds=seconds)
        async with self._engine.begin() as connection:
            renewed = await connection.execute(
                update(leases)
                .where(
                    leases.c.name == name,
                    or_(leases.c.holder == self.holder, leases.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until)
            )
        held = renewed.rowcount == 1
        if not held:
            try:
                async with self._engine.begin() as connection:
                    await connection.execute(
                        insert(leases).values(name=name, holder=self.holder, expires_at=until)
                    )
                held = True
            except StoreConflict:  # another replica holds it, or took it just now
                held = False
        self._note(name, held)
        return held

    async def release_all(self) -> None:
        """Give back what this process holds, so that another replica takes over at once."""
        if not self._held:
            return
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(leases).where(
                    leases.c.holder == self.holder, leases.c.name.in_(sorted(self._held))
                )
            )
        self._held.clear()

    def _note(self, name: str, held: bool) -> None:
        if held and name not in self._held:
            log.info("%s: this replica (%s) runs it now", name, self.holder)
            self._held.add(name)
        elif not held and name in self._held:
            log.info("%s: another replica runs it now", name)
            self._held.discard(name)
