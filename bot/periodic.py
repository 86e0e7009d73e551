"""The gateway's background jobs (handoff sweep, retry of unanswered messages, retention):
one round now and then, every round logged when it fails, and a clean stop.

With `leases` (bot/leases.py), a round runs only in the replica that holds the job's
lease, renewed each round for three rounds' time (at least LEASE_AT_LEAST): a replica that
dies is replaced within that time.

A stop lets a round under way finish, for a few seconds at most: a round cut between its
queries (a message half answered, an erasure half done) would leave its work to an engine
that is being disposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.leases import Leases

log = logging.getLogger(__name__)

# How long a stop waits for a round under way (scripts/stack.py kills at 6 s).
FINISH_SECONDS = 5.0
LEASE_AT_LEAST = 15.0


class Periodic:
    """Runs `job` after `first` seconds, then every `every` seconds, until `stop()`."""

    def __init__(
        self,
        name: str,
        job: Callable[[], Awaitable[object]],
        every: float,
        first: float,
        leases: Leases | None = None,
    ) -> None:
        self.name = name
        self._leases = leases
        self._job = job
        self._every = every
        self._first = first
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is None:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), FINISH_SECONDS)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        wait = self._first
        while not await self._stopped_within(wait):
            try:
                if await self._mine():
                    await self._job()
            except Exception:  # the next round tries again; the service keeps serving
                log.exception("%s failed", self.name)
            wait = self._every

    async def _mine(self) -> bool:
        if self._leases is None:
            return True
        return await self._leases.hold(self.name, max(3 * self._every, LEASE_AT_LEAST))

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()
