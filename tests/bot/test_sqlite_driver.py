"""The SQLite dialect with one trip to aiosqlite's thread per statement (bot/sqlite_driver.py)."""

from __future__ import annotations

import collections

import aiosqlite.core
import pytest
from sqlalchemy import insert, select, text, update

from bot.db import conversations, create_engine, create_schema, utcnow
from bot.errors import StoreConflict


@pytest.fixture
def trips(monkeypatch) -> collections.Counter:
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


async def test_a_statement_is_one_trip_and_a_transaction_one_more(engine, trips):
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
    assert trips == {"_run": 3, "commit": 1}


async def test_reading_takes_no_trip_to_end_a_transaction_it_never_began(engine, trips):
    async with engine.connect() as connection:
        assert await connection.scalar(select(conversations.c.id)) is None
    async with engine.begin() as connection:
        await connection.execute(select(conversations.c.id))
    assert trips == {"_run": 2}


async def test_a_transaction_left_open_is_rolled_back(engine, trips):
    async with engine.connect() as connection:
        await connection.execute(insert(conversations).values(conversation("rest-a")))
        # no commit: the pool rolls back when the connection is returned
    assert trips == {"_run": 1, "rollback": 1}
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
            await connection.execute(text("PRAGMA busy_timeout=200"))
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
