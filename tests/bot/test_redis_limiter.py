"""Rate limits shared by replicas (bot/redis_limiter.py) against the test Redis that
`make services` starts (TOLK_TEST_REDIS_URL): the same behaviour as the memory limiter,
one budget for two limiters (two replicas), expiry, and what happens when Redis stops.

Every test uses a key prefix of its own (or client addresses of its own, for the app), so
that runs and people sharing the server never count each other's hits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
import redis.asyncio

from bot.app import create_app
from bot.appkeys import GATEWAY, LOGIN_LIMITER
from bot.errors import LimiterUnavailable
from bot.ratelimit import FallbackRateLimiter, MemoryRateLimiter, Rate
from bot.redis_limiter import RedisRateLimiter
from bot.settings import Settings, SettingsError
from tests.bot.test_limits import Clock, from_address
from tests.servers import redis_url

PASSWORD = "correct horse battery"


def unique_prefix() -> str:
    return f"tolk:test-{secrets.token_hex(6)}:"


def random_loopback() -> str:
    """A client address of this test's own: all of 127/8 is this machine."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


@pytest.fixture
async def inspector() -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client to look at what the limiter stored."""
    client = redis.asyncio.Redis.from_url(redis_url())
    yield client
    await client.aclose()


async def shared(prefix: str, **options) -> RedisRateLimiter:
    limiter = RedisRateLimiter(redis_url(), prefix=prefix, **options)
    await limiter.open()
    return limiter


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter_with_clock(request):
    """Each behavioural test runs on both limiters, on a clock the test moves."""
    clock = Clock()
    if request.param == "memory":
        yield MemoryRateLimiter(clock=clock), clock
        return
    async with RedisRateLimiter(redis_url(), prefix=unique_prefix(), clock=clock).running() as lim:
        yield lim, clock


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter_on_real_time(request):
    """Both limiters on their real clocks (Redis: the server's TIME)."""
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    async with RedisRateLimiter(redis_url(), prefix=unique_prefix()).running() as limiter:
        yield limiter


# The same behaviour, memory or Redis -------------------------------------------------------


async def test_a_burst_then_one_per_interval_on_either_limiter(limiter_with_clock):
    limiter, clock = limiter_with_clock
    rate = Rate(4, 10)  # 4 at once, then one every 2.5 s
    assert [await limiter.hit("s", "k", rate) for _ in range(4)] == [0.0] * 4
    assert await limiter.hit("s", "k", rate) == pytest.approx(2.5)
    assert await limiter.wait("s", "k", rate) == pytest.approx(2.5)
    assert await limiter.hit("s", "other", rate) == 0.0, "keys are independent"
    assert await limiter.hit("t", "k", rate) == 0.0, "scopes are independent"
    clock.now += 2.5
    assert await limiter.hit("s", "k", rate) == 0.0
    assert await limiter.hit("s", "k", rate) == pytest.approx(2.5)
    await limiter.forget("s", "k")
    assert await limiter.hit("s", "k", rate) == 0.0


async def test_refused_hits_and_waits_count_nothing_on_either_limiter(limiter_with_clock):
    limiter, clock = limiter_with_clock
    rate = Rate(1, 10)
    assert await limiter.wait("s", "k", rate) == 0.0
    assert await limiter.wait("s", "k", rate) == 0.0, "asking is not counted"
    await limiter.hit("s", "k", rate)
    for _ in range(20):  # hammering while limited does not push the wait further out
        assert await limiter.hit("s", "k", rate) == pytest.approx(10)
    clock.now += 4
    assert await limiter.wait("s", "k", rate) == pytest.approx(6)
    clock.now += 6
    assert await limiter.hit("s", "k", rate) == 0.0


@pytest.mark.redis
async def test_memory_and_redis_answer_a_long_random_sequence_alike():
    """300 random hits, waits, forgets and pauses on several keys and rates, replayed on
    both limiters: every answer is the same (intervals and pauses exact in binary, so
    that any difference is the algorithm's, not rounding's)."""
    url = redis_url()
    memory_clock, redis_clock = Clock(), Clock()
    memory = MemoryRateLimiter(clock=memory_clock)
    dice = random.Random(13)
    rates = [Rate(4, 10), Rate(2, 1), Rate(5, 60)]
    steps = [
        (dice.choice(["hit"] * 6 + ["wait", "forget"]), dice.randrange(3), dice.randrange(3),
         dice.choice([0, 0, 0, 0.5, 1, 2.5, 12]))
        for _ in range(300)
    ]  # fmt: skip
    answers: dict[str, list[float | None]] = {"memory": [], "redis": []}
    async with RedisRateLimiter(url, prefix=unique_prefix(), clock=redis_clock).running() as red:
        for name, limiter, clock in (("memory", memory, memory_clock), ("redis", red, redis_clock)):
            for action, key, which, pause in steps:
                clock.now += pause
                if action == "forget":
                    await limiter.forget("s", f"k{key}")
                    answers[name].append(None)
                else:
                    wait = await getattr(limiter, action)("s", f"k{key}", rates[which])
                    answers[name].append(round(wait, 6))
    assert answers["redis"] == answers["memory"]
    assert sum(1 for a in answers["memory"] if a) > 20, "the sequence reaches the limits"


async def test_a_bucket_comes_back_in_real_time_on_either_limiter(limiter_on_real_time):
    limiter = limiter_on_real_time
    rate = Rate(2, 0.4)
    assert await limiter.hit("s", "k", rate) == 0.0
    assert await limiter.hit("s", "k", rate) == 0.0
    wait = await limiter.hit("s", "k", rate)
    assert 0.1 < wait <= 0.2
    await asyncio.sleep(wait + 0.02)
    assert await limiter.hit("s", "k", rate) == 0.0
    assert await limiter.hit("s", "k", rate) > 0


# Redis only -------------------------------------------------------------------------------


@pytest.mark.redis
async def test_two_replicas_share_one_budget():
    prefix = unique_prefix()
    first, second = await shared(prefix), await shared(prefix)
    try:
        rate = Rate(5, 60)
        assert [await first.hit("login", "10.0.0.9 ana", rate) for _ in range(3)] == [0.0] * 3
        assert [await second.hit("login", "10.0.0.9 ana", rate) for _ in range(2)] == [0.0] * 2
        assert await first.hit("login", "10.0.0.9 ana", rate) == pytest.approx(12, abs=0.05)
        assert await second.wait("login", "10.0.0.9 ana", rate) == pytest.approx(12, abs=0.05)
        await second.forget("login", "10.0.0.9 ana")  # a login on one replica...
        assert await first.hit("login", "10.0.0.9 ana", rate) == 0.0  # ...clears it on both
    finally:
        await first.close()
        await second.close()


@pytest.mark.redis
async def test_replicas_racing_for_the_last_tokens_never_overspend():
    """60 hits at once from two replicas on a budget of 10: exactly 10 pass, because the
    check and the count are one script in Redis (a GET then a SET would let more by)."""
    prefix = unique_prefix()
    first, second = await shared(prefix), await shared(prefix)
    try:
        rate = Rate(10, 60)
        waits = await asyncio.gather(
            *(replica.hit("sender", "rest-c1", rate) for replica in (first, second) * 30)
        )
        assert sum(1 for wait in waits if wait == 0) == 10
    finally:
        await first.close()
        await second.close()


@pytest.mark.redis
async def test_a_burst_of_requests_waits_for_a_connection_rather_than_failing():
    """500 checks at once on one replica share its few connections: none reads as an
    outage (redis-py's default pool raised "Too many connections" past 100)."""
    async with RedisRateLimiter(redis_url(), prefix=unique_prefix()).running() as limiter:
        waits = await asyncio.gather(
            *(limiter.hit("address", f"10.0.{n // 250}.{n % 250}", Rate(5, 10)) for n in range(500))
        )
    assert waits == [0.0] * 500


@pytest.mark.redis
async def test_keys_are_prefixed_hashed_and_expire_when_the_bucket_is_full(inspector):
    prefix = unique_prefix()
    async with RedisRateLimiter(redis_url(), prefix=prefix).running() as limiter:
        hostile = "x" * 1_000_000 + "\ud800"  # a megabyte, and a lone surrogate
        assert await limiter.hit("sender", hostile, Rate(2, 0.3)) == 0.0
        keys = [key async for key in inspector.scan_iter(match=f"{prefix}*")]
        assert keys == [limiter.key("sender", hostile).encode()]
        assert keys[0].startswith(prefix.encode() + b"rate:sender:") and len(keys[0]) < 80
        ttl = await inspector.pttl(keys[0])
        assert 0 < ttl <= 150, "kept only until one token is back, then forgotten"
        await asyncio.sleep(0.2)
        assert await inspector.exists(keys[0]) == 0


def test_the_default_prefix_is_tolk():
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/0")
    assert limiter.key("login", "a").startswith("tolk:rate:login:")
    assert "secret" not in repr(RedisRateLimiter("redis://:secret@10.0.0.7:6390/2"))


class CuttableProxy:
    """A TCP proxy in front of the test Redis: `cut()` makes Redis vanish mid-way (every
    connection dropped, the port closed), `restore()` brings it back on the same port,
    with its data, as a restarted network link would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._pipe, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    restore = start

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, upstream_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}


@pytest.mark.redis
async def test_redis_stopping_mid_way_refuses_then_recovers_with_its_counts(caplog):
    """Stopped: the shared limiter raises LimiterUnavailable (the login throttle refuses),
    quickly, and for a moment without even trying; the customers' fallback counts in this
    process meanwhile. Back: the counts from before the outage still hold."""
    caplog.set_level(logging.WARNING, logger="bot.redis_limiter")
    from urllib.parse import urlsplit

    target = urlsplit(redis_url())
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    url = f"redis://127.0.0.1:{proxy.port}{target.path}"
    limiter = RedisRateLimiter(url, prefix=unique_prefix(), down_seconds=0.3)
    customers = FallbackRateLimiter(limiter, MemoryRateLimiter())
    rate = Rate(3, 60)
    async with limiter.running():
        assert [await limiter.hit("login", "k", rate) for _ in range(2)] == [0.0, 0.0]
        await proxy.cut()

        started = time.monotonic()
        with pytest.raises(LimiterUnavailable):
            await limiter.hit("login", "k", rate)
        assert time.monotonic() - started < 1.5, "a refused connection is not waited out"
        connections = proxy.connections
        started = time.monotonic()
        for _ in range(100):
            with pytest.raises(LimiterUnavailable):
                await limiter.wait("login", "k", rate)
        assert time.monotonic() - started < 0.1, "while down, calls do not try Redis"
        assert proxy.connections == connections

        # Customers: served from this process's buckets, still limited.
        assert [await customers.hit("sender", "c", rate) for _ in range(3)] == [0.0] * 3
        assert await customers.hit("sender", "c", rate) == pytest.approx(20, abs=0.1)

        await proxy.restore()
        await asyncio.sleep(0.35)  # down_seconds, then Redis is tried again
        assert await limiter.hit("login", "k", rate) == 0.0, "the third of three"
        assert await limiter.hit("login", "k", rate) > 0, "the two from before still count"
        assert await customers.hit("sender", "c", rate) == 0.0, "shared again: a fresh key"
    await proxy.cut()
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.redis_limiter"]
    assert len(warnings) == 2, warnings  # once down, once back: not one per request
    assert "does not answer" in warnings[0] and "answers again" in warnings[1]
    assert all(f"127.0.0.1:{proxy.port}" in warning for warning in warnings)


# The service with TOLK_REDIS_URL -----------------------------------------------------------


def test_the_redis_url_is_read_and_checked():
    url = "redis://:p%40ss@10.0.0.7:6390/2"
    assert Settings.from_env({"TOLK_REDIS_URL": url}).redis_url == url
    assert Settings.from_env({}).redis_url is None
    assert "p%40ss" not in repr(Settings.from_env({"TOLK_REDIS_URL": url}))
    for bad in ("http://10.0.0.7", "redis://:secret@10.0.0.7:port/0", "redis://h/zero"):
        with pytest.raises(SettingsError, match="TOLK_REDIS_URL") as raised:
            Settings.from_env({"TOLK_REDIS_URL": bad})
        assert "secret" not in str(raised.value)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


async def add_agent(client) -> None:
    await client.app[GATEWAY].handoff.agents.add("Ana", ("en",), password=PASSWORD)


async def login(session, client, password: str):
    url = client.make_url("/console/login")
    return await session.post(url, json={"name": "Ana", "password": password})


@pytest.mark.redis
async def test_two_gateway_replicas_share_the_login_throttle(aiohttp_client, settings):
    """Guesses spread over two replicas count as one budget (5 per minute by default)."""
    configured = replace(settings, redis_url=redis_url())
    first = await aiohttp_client(create_app(configured))
    second = await aiohttp_client(create_app(configured))  # one database, one Redis
    await add_agent(first)
    async with from_address(random_loopback()) as stranger:
        statuses = []
        for n in range(6):
            replica = (first, second)[n % 2]
            statuses.append((await login(stranger, replica, "guess guess")).status)
        assert statuses == [401] * 5 + [429]
        assert (await login(stranger, first, PASSWORD)).status == 429, "locked on both"
    limiter = first.app[LOGIN_LIMITER]
    assert isinstance(limiter, RedisRateLimiter) and limiter.is_open
    await first.close()
    assert not limiter.is_open, "the client is closed when the service stops"


async def test_without_redis_customers_are_served_and_logins_refused(
    aiohttp_client, settings, closed_port, caplog
):
    """Redis down: messages keep being answered, within this replica's own limits; the
    console login answers 503 (never an unlimited run of password guesses)."""
    configured = replace(
        settings, redis_url=f"redis://127.0.0.1:{closed_port}/0", rate_per_sender=Rate(3, 60)
    )
    client = await aiohttp_client(create_app(configured))
    await add_agent(client)
    statuses = []
    for _ in range(4):
        response = await client.post("/api/v1/messages", json={"sender": "c1", "text": "hi"})
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 429]
    for password in ("guess guess", PASSWORD):
        response = await client.post("/console/login", json={"name": "Ana", "password": password})
        assert response.status == 503
        assert "retry" in (await response.json())["error"]
    assert any("does not answer" in r.getMessage() for r in caplog.records)
