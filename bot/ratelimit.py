"""Rate limits: how often one key (a sender, an address, an agent name) may do something.

A `Rate` of 20 per 10 s allows 20 at once and then one every half second (a token bucket,
kept as GCRA: one "theoretical arrival time" per key, so a key costs one float). A key
whose bucket has filled up again is the same as no key at all and is forgotten; a hard cap
on keys bounds memory when a flood invents new keys.

`MemoryRateLimiter` keeps the buckets in this process; `RateLimiter` is the interface the
web layer uses, so that a shared store (Redis for several replicas, bot/redis_limiter.py)
can take its place, and `FallbackRateLimiter` falls back on this process's buckets while
that store is unreachable. Nothing here knows HTTP: callers turn a wait into their own
answer (429, a pause).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import LimiterUnavailable

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$")
# Per scope; beyond this, the least recently seen keys are forgotten (they start afresh).
MAX_KEYS = 100_000


@dataclass(frozen=True)
class Rate:
    """`count` events per `seconds`."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"a rate needs a positive count and period, got {self}")

    @property
    def interval(self) -> float:
        """How long one event's token takes to come back."""
        return self.seconds / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


def parse_rate(text: str) -> Rate:
    """ "20/10s", "30/10m", "5/1h" or "20/10" (seconds); ValueError naming the form."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(f"expected COUNT/PERIOD such as 20/10s, 30/10m or 5/1h, got {text!r}")
    count, period, unit = int(match.group(1)), float(match.group(2)), match.group(3) or ""
    return Rate(count, period * _UNITS[unit])


class RateLimiter(Protocol):
    """Buckets by (scope, key). Waits are seconds; 0.0 means "now"."""

    async def hit(self, scope: str, key: str, rate: Rate) -> float:
        """Count one event if the rate allows it now (0.0); otherwise count nothing and
        return how long until it would be allowed."""
        ...

    async def wait(self, scope: str, key: str, rate: Rate) -> float:
        """How long until one more event would be allowed, counting nothing."""
        ...

    async def forget(self, scope: str, key: str) -> None:
        """Start the key afresh (e.g. a successful login clears its failures)."""
        ...


class MemoryRateLimiter:
    """`RateLimiter` in this process's memory (lost on restart, not shared by replicas)."""

    def __init__(
        self, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self.clock = clock
        # Per scope: key -> the time its bucket is full again, least recently touched first.
        self._scopes: dict[str, OrderedDict[str, float]] = {}

    async def hit(self, scope: str, key: str, rate: Rate) -> float:
        now = self.clock()
        buckets = self._scopes.setdefault(scope, OrderedDict())
        full_at = max(buckets.get(key, now), now) + rate.interval
        wait = full_at - now - rate.seconds
        if wait > 0:
            buckets.move_to_end(key)  # still busy: keep it from being evicted first
            return wait
        buckets[key] = full_at
        buckets.move_to_end(key)
        self._evict(buckets, now)
        return 0.0

    async def wait(self, scope: str, key: str, rate: Rate) -> float:
        now = self.clock()
        full_at = self._scopes.get(scope, {}).get(key, now)
        return max(0.0, max(full_at, now) + rate.interval - now - rate.seconds)

    async def forget(self, scope: str, key: str) -> None:
        self._scopes.get(scope, {}).pop(key, None)

    def keys(self, scope: str) -> int:
        """How many keys `scope` holds now (for tests and metrics)."""
        return len(self._scopes.get(scope, {}))

    def _evict(self, buckets: OrderedDict[str, float], now: float) -> None:
        # Full buckets at the old end say nothing any more; each key leaves once, so this
        # is constant work per hit on average.
        while buckets:
            oldest, full_at = next(iter(buckets.items()))
            if full_at > now and len(buckets) <= self.max_keys:
                break
            del buckets[oldest]


class FallbackRateLimiter:
    """`shared` (Redis) while it answers; while it raises `LimiterUnavailable`, `local`
    (this process's memory) instead. For customers' limits: a Redis outage must not stop
    the service, and each replica still limits a flood as a lone replica would, so the
    worst case is the budget times the number of replicas, never unlimited. (Console
    logins use the shared limiter directly and are refused meanwhile: bot/app.py.)"""

    def __init__(self, shared: RateLimiter, local: RateLimiter) -> None:
        self.shared = shared
        self.local = local

    async def hit(self, scope: str, key: str, rate: Rate) -> float:
        try:
            return await self.shared.hit(scope, key, rate)
        except LimiterUnavailable:
            return await self.local.hit(scope, key, rate)

    async def wait(self, scope: str, key: str, rate: Rate) -> float:
        try:
            return await self.shared.wait(scope, key, rate)
        except LimiterUnavailable:
            return await self.local.wait(scope, key, rate)

    async def forget(self, scope: str, key: str) -> None:
        await self.local.forget(scope, key)
        try:
            await self.shared.forget(scope, key)
        except LimiterUnavailable:
            pass  # nothing there can be forgotten now; the bucket runs out by itself
