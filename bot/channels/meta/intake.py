"""Stored messages handled one customer at a time, in the order the customer sent them.

The webhook stores and answers 200 (inbound.py); here each customer's stored messages are
handled after a short pause (so that a redelivery overtaking a newer message is stored
before either is handled), oldest first. A database that is down keeps the message stored
for a later try; a message that cannot be read at all is logged and passed over, so that
it never blocks its customer for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.channels.meta.inbound import InboundLog, Incoming, Stored
from bot.errors import StoreUnavailable
from bot.limits import CustomerLimits

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class Intake:
    def __init__(
        self,
        messages: InboundLog,
        handle: Callable[[Stored], Awaitable[None]],
        limits: CustomerLimits,
        reorder_seconds: float,
    ) -> None:
        self.messages = messages
        self._handle = handle
        self._limits = limits
        self._reorder = reorder_seconds
        self._drains: dict[str, asyncio.Task] = {}
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Messages stored before a restart are handled now."""
        for sender in await self.messages.senders_with_pending():
            self.schedule(sender)

    async def stop(self) -> None:
        for task in [*self._tasks, *self._drains.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._drains.values(), return_exceptions=True)

    async def receive(self, incoming: Incoming) -> bool:
        """Store (once) and schedule; False for a message stored before."""
        if not await self.messages.store(incoming):
            return False
        self.schedule(incoming.sender)
        return True

    def schedule(self, sender: str) -> None:
        self._dirty.add(sender)
        running = self._drains.get(sender)
        if running is None or running.done():
            self._drains[sender] = asyncio.create_task(self._drain(sender))

    def spawn(self, work: Awaitable[None]) -> None:
        """Background work (a push to a customer) that `stop` cancels."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, sender: str) -> None:
        await asyncio.sleep(self._reorder)
        while sender in self._dirty:
            self._dirty.discard(sender)
            for stored in await self.messages.pending(sender):
                # Over the customer's rate the messages wait here, stored (Meta cannot be
                # answered 429: it would retry and finally drop them).
                await self._limits.pace(sender)
                try:
                    await self._handle(stored)
                except StoreUnavailable as error:
                    log.warning("%s message kept for a retry: %s", self.messages.channel, error)
                    self._retry_later(sender)
                    return
                except Exception:
                    log.exception("%s message %s skipped", self.messages.channel, stored.id)
                await self.messages.done(stored.id)
        self._drains.pop(sender, None)

    def _retry_later(self, sender: str) -> None:
        async def again() -> None:
            await asyncio.sleep(RETRY_SECONDS)
            self.schedule(sender)

        self._drains.pop(sender, None)
        self.spawn(again())
