"""The SQLite dialect (bot/sqlite_driver.py): statements on the event loop, waiting for a
locked database without stopping it; commits, rollbacks and scans in aiosqlite's thread."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite.core
import pytest
from sqlalchemy import insert, select, update

import bot.sqlite_driver
from bot.db import conversations, create_engine, create_schema, reading, utcnow
from bot.errors import StoreConflict, StoreUnavailable


@pytest.fixture
def trips(monkeypatch) -> collections.Counter:
    return count_trips(monkeypatch)


def count_trips(monkeypatch) -> collections.Counter:
    """What is sent to aiosqlite's thread, by the name of the function run there."""
    counted: collections.Counter = collections.Counter()
    original = aiosqlite.core.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        counted[getattr(fn, "__name__", "?")] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return counted


def conversation(sender: str) -> dict:
    now = utcnow()
    return {"sender": sender, "channel": "rest", "created_at": now, "updated_at": now}


async def test_sqlite_urls_get_the_one_trip_dialect(engine):
    assert engine.dialect.driver == "tolk_aiosqlite"


async def test_statements_run_on_the_loop_and_a_transaction_ends_in_the_thread(engine, trips):
    async with engine.begin() as connection:
        inserted = await connection.execute(insert(conversations).values(conversation("rest-a")))
        moved = await connection.execute(
            update(conversations).where(conversations.c.sender == "rest-a").values(language="nl")
        )
        rows = (await connection.execute(select(conversations.c.sender))).all()
    # What SQLAlchemy reads from the cursor after the trip is there.
    assert inserted.inserted_primary_key[0] == 1
    assert moved.rowcount == 1
    assert rows == [("rest-a",)]
    assert trips == {"commit": 1}


async def test_reading_takes_no_trip_to_end_a_transaction_it_never_began(engine, trips):
    async with engine.connect() as connection:
        assert await connection.scalar(select(conversations.c.id)) is None
    async with engine.begin() as connection:
        await connection.execute(select(conversations.c.id))
    assert trips == {}


async def test_a_scan_runs_in_the_thread(engine, trips):
    async with reading(engine, scans=True) as connection:
        assert await connection.scalar(select(conversations.c.id)) is None
        assert await connection.scalar(select(conversations.c.id)) is None
    async with reading(engine) as connection:
        assert await connection.scalar(select(conversations.c.id)) is None
    assert trips == {"_waiting": 2}


@asynccontextmanager
async def lock_held(path: Path, seconds: float) -> AsyncIterator[None]:
    """Another process's write (the action server's) holding the lock for `seconds` from
    entering; the lock is held when the block starts and released on its own."""
    holding = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        await asyncio.to_thread(holding.wait)
        yield
    finally:
        await asyncio.to_thread(holder.join)


async def test_a_write_waits_for_the_lock_and_the_loop_goes_on(engine, tmp_path):
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with lock_held(tmp_path / "tolk.db", 0.4):
        ticking = asyncio.create_task(tick())
        started = time.monotonic()
        async with engine.begin() as connection:
            await connection.execute(insert(conversations).values(conversation("rest-a")))
        waited = time.monotonic() - started
        ticking.cancel()
    assert waited > 0.2, "the write waited for the other's commit"
    # SQLite waiting inside the statement would have stopped the loop: no ticks.
    assert ticks >= 10, f"the event loop ran {ticks} times in {waited:.2f} s"
    async with reading(engine) as connection:
        assert await connection.scalar(select(conversations.c.sender)) == "rest-a"


async def test_a_lock_held_past_the_wait_is_store_unavailable(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(bot.sqlite_driver, "LOCK_WAIT_SECONDS", 0.1)
    async with lock_held(tmp_path / "tolk.db", 0.6):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="locked"):
            async with engine.begin() as connection:
                await connection.execute(insert(conversations).values(conversation("rest-a")))
        assert time.monotonic() - started < 0.4, "gave up after LOCK_WAIT_SECONDS"


async def test_a_transaction_left_open_is_rolled_back(engine, trips):
    async with engine.connect() as connection:
        await connection.execute(insert(conversations).values(conversation("rest-a")))
        # no commit: the pool rolls back when the connection is returned
    assert trips == {"rollback": 1}
    async with engine.connect() as connection:
        assert await connection.scalar(select(conversations.c.id)) is None


async def test_a_failed_write_does_not_keep_the_database_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'tolk.db'}"
    engine, other = create_engine(url), create_engine(url)
    try:
        await create_schema(engine)
        async with engine.begin() as connection:
            await connection.execute(insert(conversations).values(conversation("rest-a")))
        # sqlite3 begins a transaction (and takes the write lock) before the INSERT, which
        # then breaks the unique sender: the transaction must still be rolled back.
        with pytest.raises(StoreConflict):
            async with engine.connect() as connection:
                await connection.execute(insert(conversations).values(conversation("rest-a")))
        async with other.begin() as connection:
            await connection.execute(insert(conversations).values(conversation("rest-b")))
        async with engine.connect() as connection:
            senders = (await connection.execute(select(conversations.c.sender))).scalars()
            assert sorted(senders) == ["rest-a", "rest-b"]
    finally:
        await engine.dispose()
        await other.dispose()


async def test_many_rows_at_once(engine):
    async with engine.begin() as connection:
        await connection.execute(
            insert(conversations), [conversation(f"rest-{n}") for n in range(3)]
        )
    async with engine.connect() as connection:
        assert (
            await connection.scalar(select(conversations.c.id).order_by(conversations.c.id.desc()))
            == 3
        )
