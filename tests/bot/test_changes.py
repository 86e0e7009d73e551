"""The console's change signal (bot/changes.py): within a process, and across processes
through the test Redis (TOLK_TEST_REDIS_URL), including Redis going away and coming back.

Each Redis test uses a channel of its own, so that runs and people sharing the server
never wake each other's listeners.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from urllib.parse import urlsplit

import pytest
import redis.asyncio

from bot.changes import LocalChanges, RedisChanges, changes_for
from tests.bot.test_redis_limiter import CuttableProxy, closed_port  # noqa: F401 (fixture)
from tests.servers import redis_url


def unique_channel() -> str:
    return f"tolk:test-changes-{secrets.token_hex(6)}"


async def woken(event: asyncio.Event, timeout: float = 2.0) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


# In this process ---------------------------------------------------------------------------


async def test_a_notify_wakes_every_listener_of_the_process():
    changes = LocalChanges()
    first, second = asyncio.Event(), asyncio.Event()
    changes.listen(first)
    changes.listen(second)
    changes.notify()
    assert await woken(first) and await woken(second)
    assert changes.version == 1
    assert not changes.shared, "without Redis other replicas' changes do not reach here"


async def test_a_burst_of_notifies_makes_one_signal():
    changes = LocalChanges(coalesce=0.05)
    wake = asyncio.Event()
    changes.listen(wake)
    for _ in range(100):
        changes.notify()
    assert not wake.is_set(), "the signal waits for the burst to end"
    assert await woken(wake)
    await asyncio.sleep(0.1)
    assert changes.version == 1
    changes.notify()  # a later change is a new signal
    await until(lambda: changes.version == 2)


async def test_a_forgotten_listener_is_not_woken():
    changes = LocalChanges(coalesce=0.01)
    kept, forgotten = asyncio.Event(), asyncio.Event()
    changes.listen(kept)
    changes.listen(forgotten)
    changes.forget(forgotten)
    changes.notify()
    assert await woken(kept)
    assert not forgotten.is_set()


async def test_stopping_drops_a_pending_signal():
    changes = LocalChanges(coalesce=0.05)
    async with changes.running():
        changes.notify()
    await asyncio.sleep(0.1)
    assert changes.version == 0


def test_redis_only_with_a_url():
    assert type(changes_for(None)) is LocalChanges
    made = changes_for("redis://:secret@10.0.0.7:6390/2")
    assert isinstance(made, RedisChanges)
    assert made.channel.endswith(":2"), "pub/sub ignores databases: the channel names it"
    assert "secret" not in repr(made) and made.where == "10.0.0.7:6390"


# Across processes, through Redis -----------------------------------------------------------


def two_replicas(url: str, **options) -> tuple[RedisChanges, RedisChanges]:
    channel = unique_channel()
    return (
        RedisChanges(url, channel=channel, **options),
        RedisChanges(url, channel=channel, **options),
    )


@pytest.mark.redis
async def test_a_change_on_one_replica_wakes_the_other():
    first, second = two_replicas(redis_url())
    here, there = asyncio.Event(), asyncio.Event()
    first.listen(here)
    second.listen(there)
    async with first.running(), second.running():
        await until(lambda: first.shared and second.shared)
        here.clear()
        there.clear()  # subscribing wakes the listeners once (what was missed meanwhile)
        versions = first.version, second.version
        first.notify()
        assert await woken(there, timeout=1.0)
        assert await woken(here)
        await asyncio.sleep(0.2)
        assert (first.version, second.version) == (versions[0] + 1, versions[1] + 1), (
            "one wake each: a replica ignores its own signal coming back"
        )


@pytest.mark.redis
async def test_a_burst_is_published_once():
    url = redis_url()
    first, _ = two_replicas(url)
    spy = redis.asyncio.Redis.from_url(url)
    pubsub = spy.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(first.channel)
    try:
        async with first.running():
            for _ in range(200):
                first.notify()
            await asyncio.sleep(0.3)
            published = []
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:  # None also for the ignored "subscribe"
                message = await pubsub.get_message(timeout=0.1)
                if message is not None:
                    published.append(message)
            assert len(published) == 1, published
    finally:
        await pubsub.aclose()
        await spy.aclose()


@pytest.mark.redis
async def test_redis_going_away_falls_back_to_polling_and_recovers(caplog):
    """Cut off: `shared` turns False at once and the listeners are woken (the feeds
    switch to their short tick), notifies still wake this process and the failure is
    logged once, not per signal. Back: listening again, changes cross again."""
    caplog.set_level(logging.WARNING, logger="bot.changes")
    target = urlsplit(redis_url())
    proxies = [CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379) for _ in (1, 2)]
    for proxy in proxies:
        await proxy.start()
    channel = unique_channel()
    first, second = (
        RedisChanges(
            f"redis://127.0.0.1:{proxy.port}{target.path}",
            channel=channel,
            down_seconds=0.05,
            backoff=(0.05, 0.2),
            listen_seconds=0.5,
        )
        for proxy in proxies
    )
    here, there = asyncio.Event(), asyncio.Event()
    first.listen(here)
    second.listen(there)
    async with first.running(), second.running():
        await until(lambda: first.shared and second.shared)
        here.clear()
        await proxies[0].cut()
        assert await woken(here), "feeds are told to go back to their short tick"
        await until(lambda: not first.shared)

        for _ in range(20):
            here.clear()
            started = time.monotonic()
            first.notify()
            assert await woken(here), "this process's feeds are still woken"
            assert time.monotonic() - started < 0.5, "nobody waits for Redis"
            await asyncio.sleep(0.06)  # past down_seconds: each signal tries to publish
        assert not first.shared

        await proxies[0].restore()
        await until(lambda: first.shared)
        await asyncio.sleep(0.1)
        there.clear()
        first.notify()
        assert await woken(there, timeout=1.0), "changes cross again"
    for proxy in proxies:
        await proxy.cut()
    where = f"127.0.0.1:{proxies[0].port}"
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.changes" and where in r.getMessage()
    ]
    assert sum("does not answer" in line for line in said) == 1, said
    assert sum("lost Redis" in line for line in said) == 1, said
    assert any("listening to Redis" in line and "again" in line for line in said), said


async def test_redis_unreachable_from_the_start_fails_nothing(closed_port):  # noqa: F811
    changes = RedisChanges(
        f"redis://127.0.0.1:{closed_port}/0", channel=unique_channel(), backoff=(0.05, 0.1)
    )
    wake = asyncio.Event()
    changes.listen(wake)
    async with changes.running():
        changes.notify()
        assert await woken(wake)
        await asyncio.sleep(0.2)
        assert not changes.shared
