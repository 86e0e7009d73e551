"""Rate limits in Redis, shared by every gateway replica (TOLK_REDIS_URL).

The same GCRA as `MemoryRateLimiter` (bot/ratelimit.py), run as one Lua script so that two
replicas hitting one key at once cannot both take its last token: per key one
"theoretical arrival time" in microseconds of Redis's own clock (replicas' clocks may
differ; the server's is one), kept exactly as long as the bucket is not full again (PX),
after which the key is gone, as a forgotten key in memory is. Keys are
`tolk:rate:<scope>:<hash of the key>`: a hostile sender name of any length costs 32
characters.

When Redis does not answer, calls raise `LimiterUnavailable` for a moment without trying
again (a down Redis must not cost each request a timeout) and the outage is logged once;
the callers decide what that means (bot/app.py): customers' limits count per replica
(`FallbackRateLimiter`), console logins are refused.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.errors import LimiterUnavailable
from bot.ratelimit import Rate

log = logging.getLogger(__name__)

PREFIX = "tolk:"
# A limit is checked on every customer request: Redis answers in a millisecond or not
# at all, and a customer should not wait seconds for it either way.
TIMEOUT_SECONDS = 0.5
# After a failure, this long without trying Redis (calls raise at once), then one try.
DOWN_SECONDS = 2.0
# Connections per process. A burst of requests beyond them waits for one (a check takes
# well under a millisecond) rather than failing: redis-py's default pool raises "Too many
# connections" instead, which here would read as an outage.
MAX_CONNECTIONS = 32
POOL_WAIT_SECONDS = 2.0

# KEYS[1] the bucket; ARGV: "hit" or "wait", the interval and the period (µs), now (µs,
# or "" for Redis's clock). Returns the wait in µs, 0 when allowed (and counted, for hit).
# TIME before a write needs effects replication: the default since Redis 5, the only
# mode since 7.
_GCRA = """
local now
if ARGV[4] ~= "" then
  now = tonumber(ARGV[4])
else
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval, period = tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call("GET", KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local full_at = tat + interval
local wait = full_at - now - period
if wait > 0 then return math.ceil(wait) end
if ARGV[1] == "hit" then
  redis.call("SET", KEYS[1], string.format("%.0f", full_at), "PX",
    math.max(1, math.ceil((full_at - now) / 1000)))
end
return 0
"""


class RedisRateLimiter:
    """`RateLimiter` (bot/ratelimit.py) in Redis. `open()` (or `running()`) creates the
    client, `close()` closes it; `clock` (seconds) replaces Redis's clock in tests."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = PREFIX,
        timeout: float = TIMEOUT_SECONDS,
        down_seconds: float = DOWN_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._url = url
        parsed = urllib.parse.urlsplit(url)
        # For the log: never the password.
        self.where = f"{parsed.hostname}:{parsed.port or 6379}"
        self.prefix = prefix
        self.timeout = timeout
        self.down_seconds = down_seconds
        self.clock = clock
        self._client: redis.asyncio.Redis | None = None
        self._script = None
        self._retry_at = 0.0  # time.monotonic() before which Redis counts as down
        self._down = False

    @property
    def is_open(self) -> bool:
        return self._client is not None

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self.where}, prefix={self.prefix!r})"

    async def open(self) -> None:
        # No I/O yet: the first command connects. One retry on a fresh connection covers
        # a pooled one that a Redis restart closed; more would only delay the verdict.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            self._url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._client = redis.asyncio.Redis.from_pool(pool)  # closing it closes the pool
        self._script = self._client.register_script(_GCRA)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = self._script = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RedisRateLimiter]:
        await self.open()
        try:
            yield self
        finally:
            await self.close()

    def key(self, scope: str, key: str) -> str:
        # surrogatepass: a JSON sender may hold a lone surrogate, which is still a key.
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16)
        return f"{self.prefix}rate:{scope}:{digest.hexdigest()}"

    async def hit(self, scope: str, key: str, rate: Rate) -> float:
        return await self._gcra("hit", scope, key, rate)

    async def wait(self, scope: str, key: str, rate: Rate) -> float:
        return await self._gcra("wait", scope, key, rate)

    async def forget(self, scope: str, key: str) -> None:
        client = self._ready()
        await self._answer(client.delete(self.key(scope, key)))

    async def _gcra(self, mode: str, scope: str, key: str, rate: Rate) -> float:
        self._ready()
        # Whole microseconds, the interval rounded down: `count` intervals never exceed
        # the period, so a burst of exactly `count` always passes, as in memory.
        interval = max(1, math.floor(rate.seconds * 1_000_000 / rate.count))
        period = round(rate.seconds * 1_000_000)
        now = "" if self.clock is None else str(round(self.clock() * 1_000_000))
        micros = await self._answer(
            self._script(keys=[self.key(scope, key)], args=[mode, interval, period, now])
        )
        return int(micros) / 1_000_000

    def _ready(self) -> redis.asyncio.Redis:
        if self._client is None:
            raise RuntimeError(f"{self!r} is not open: call open() or use running()")
        if time.monotonic() < self._retry_at:
            raise LimiterUnavailable(detail=f"Redis at {self.where} was down a moment ago")
        return self._client

    async def _answer(self, command):
        try:
            answer = await command
        except (redis.RedisError, OSError, TimeoutError) as error:
            self._retry_at = time.monotonic() + self.down_seconds
            if not self._down:
                self._down = True
                log.warning(
                    "rate limits: Redis at %s does not answer (%s: %s); customers' limits "
                    "count per replica and console logins are refused until it does",
                    self.where,
                    type(error).__name__,
                    error,
                )
            raise LimiterUnavailable(detail=f"{type(error).__name__}: {error}") from None
        self._retry_at = 0.0  # an answer is proof enough, even from a call made earlier
        if self._down:
            self._down = False
            log.warning("rate limits: Redis at %s answers again; limits are shared", self.where)
        return answer
