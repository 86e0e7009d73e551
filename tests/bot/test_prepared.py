"""bot/prepared.py: the statements on every message's way, on asyncpg itself on PostgreSQL
and through SQLAlchemy on SQLite. Each case runs on both, since callers must not tell
them apart: the same rows, the same transactions, the same errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    Numeric,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
)

import bot.sqlite_driver
from bot.db import conversations, create_engine, messages, utcnow
from bot.errors import StoreConflict, StoreUnavailable
from bot.prepared import Prepared, statements
from tests.bot.test_sqlite_driver import count_trips, lock_held
from tests.gateway_fixtures import DATABASES, engine_on, postgres_engine

_NEW_CONVERSATION = Prepared(
    conversations.insert().returning(conversations.c.id),
    columns=["sender", "channel", "created_at", "updated_at"],
)
_CONVERSATION = Prepared(
    select(conversations.c.id, conversations.c.sender, conversations.c.created_at).where(
        conversations.c.sender == bindparam("key")
    )
)
_SENDERS = Prepared(select(conversations.c.sender).order_by(conversations.c.id))
# An IN list of literals, and a literal column: values the statement carries itself.
_UNANSWERED = Prepared(
    select(messages.c.id, literal("customer").label("who")).where(
        messages.c.conversation_id == bindparam("conversation"),
        messages.c.status.in_(("received", "failed")),
    )
)
_NEW_MESSAGE = Prepared(
    messages.insert().returning(messages.c.id),
    columns=["conversation_id", "author", "text", "status", "created_at"],
)
_ONE = Prepared(select(cast(literal(1), Integer).label("one")))
_BACKEND = Prepared(select(func.pg_backend_pid().cast(Integer).label("pid")))
_SLOW = Prepared(select(func.pg_sleep(5).cast(String).label("slept")))


@pytest.fixture(params=DATABASES)
async def engine(request, tmp_path) -> AsyncIterator:
    async with engine_on(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def trips(monkeypatch):
    return count_trips(monkeypatch)


def conversation(key: str) -> dict:
    now = utcnow()
    return {"sender": key, "channel": "rest", "created_at": now, "updated_at": now}


async def test_rows_answer_by_name_by_position_and_unpacked(engine):
    async with statements(engine, writes="one") as run:
        created = await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
    async with statements(engine) as run:
        row = await run.first(_CONVERSATION, {"key": "rest-anna"})
        missing = await run.first(_CONVERSATION, {"key": "rest-nobody"})
    assert (row.id, row.sender, row[0]) == (created, "rest-anna", created)
    identifier, sender, at = row
    assert (identifier, sender, at.tzinfo) == (created, "rest-anna", None)
    assert missing is None
    with pytest.raises(AttributeError):
        row.no_such_column  # noqa: B018


async def test_values_the_statement_carries_are_sent_with_the_callers(engine):
    async with statements(engine, writes="several") as run:
        talk = await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
        waiting = {
            await run.scalar(_NEW_MESSAGE, message(talk, status))
            for status in ("received", "failed")
        }
        await run.scalar(_NEW_MESSAGE, message(talk, "answered"))
    async with statements(engine) as run:
        rows = await run.rows(_UNANSWERED, {"conversation": talk})
    assert {row.id for row in rows} == waiting and {row.who for row in rows} == {"customer"}


def message(talk: int, status: str) -> dict:
    return {
        "conversation_id": talk,
        "author": "customer",
        "text": "hi",
        "status": status,
        "created_at": utcnow(),
    }


async def test_writes_that_hold_together_are_undone_together(engine):
    with pytest.raises(RuntimeError):
        async with statements(engine, writes="several") as run:
            await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
            raise RuntimeError("changed my mind")
    async with statements(engine) as run:
        assert await run.rows(_SENDERS) == []
    # The connection went back to the pool out of its transaction: the next write holds.
    async with statements(engine, writes="several") as run:
        await run.scalar(_NEW_CONVERSATION, conversation("rest-ben"))
    async with statements(engine) as run:
        assert [row.sender for row in await run.rows(_SENDERS)] == ["rest-ben"]


async def test_a_key_taken_twice_is_a_conflict_and_the_first_stays(engine):
    async with statements(engine, writes="one") as run:
        await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
    with pytest.raises(StoreConflict):
        async with statements(engine, writes="several") as run:
            await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
    async with statements(engine) as run:
        assert [row.sender for row in await run.rows(_SENDERS)] == ["rest-anna"]


async def test_a_null_our_code_sent_is_a_bug_not_a_conflict(engine):
    broken = {**conversation("rest-anna"), "channel": None}
    with pytest.raises(Exception) as raised:
        async with statements(engine, writes="one") as run:
            await run.scalar(_NEW_CONVERSATION, broken)
    assert not isinstance(raised.value, StoreConflict | StoreUnavailable)


@pytest.mark.postgres
async def test_a_column_asyncpg_would_return_unconverted_is_refused_before_it_runs():
    async with postgres_engine() as (engine, _url):
        for kind in (JSON(), Numeric(asdecimal=True), DateTime(timezone=True)):
            refused = Prepared(select(cast(literal("1"), kind).label("value")))
            with pytest.raises(TypeError, match="value"):
                async with statements(engine) as run:
                    await run.scalar(refused)


@pytest.mark.postgres
async def test_a_connection_the_server_ended_is_replaced_before_it_is_used():
    async with postgres_engine() as (engine, url):
        async with statements(engine) as run:
            pid = await run.scalar(_BACKEND)
        async with statements(engine) as run:
            assert await run.scalar(_BACKEND) == pid  # the pooled one again
        await terminate(url, pid)
        async with statements(engine) as run:
            # Seen closed at checkout, without a round trip, and connected again.
            assert await run.scalar(_BACKEND) not in (None, pid)


@pytest.mark.postgres
@pytest.mark.parametrize("then", ["a statement", "the commit"])
async def test_a_connection_lost_inside_a_transaction_is_unavailable_and_keeps_nothing(then):
    # Found by tests/e2e/test_faults.py: asyncpg refuses the rollback of a closed
    # connection at the call, which was a 500 instead of "retry shortly".
    async with postgres_engine() as (engine, url):
        with pytest.raises(StoreUnavailable):
            async with statements(engine, writes="several") as run:
                pid = await run.scalar(_BACKEND)
                await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
                await terminate(url, pid)
                if then == "a statement":
                    await run.scalar(_NEW_CONVERSATION, conversation("rest-ben"))
        async with statements(engine) as run:
            assert await run.rows(_SENDERS) == []
            assert await run.scalar(_BACKEND) != pid


async def terminate(url: str, pid: int) -> None:
    """End backend `pid` as an administrator would, and let asyncpg read the goodbye."""
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)


@pytest.mark.postgres
async def test_a_statement_cut_off_by_a_cancel_leaves_no_broken_connection_behind():
    async with postgres_engine() as (engine, _url):
        task = asyncio.create_task(run_alone(engine, _SLOW))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for n in range(3):  # whichever pooled connection is handed out works
            async with statements(engine, writes="several") as run:
                await run.scalar(_NEW_CONVERSATION, conversation(f"rest-{n}"))
        async with statements(engine) as run:
            assert len(await run.rows(_SENDERS)) == 3


async def test_no_database_to_reach_is_unavailable():
    engine = create_engine("postgresql://tolk:tolk@127.0.0.1:9/tolk")  # discard: refused
    try:
        with pytest.raises(StoreUnavailable):
            async with statements(engine) as run:
                await run.scalar(_ONE)
    finally:
        await engine.dispose()


async def run_alone(engine, statement: Prepared):
    async with statements(engine) as run:
        return await run.scalar(statement)


async def test_a_write_that_returns_nothing_runs_and_answers_no_rows(engine):
    async with statements(engine, writes="one") as run:
        talk = await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
    rename = Prepared(
        conversations.update()
        .where(conversations.c.id == bindparam("talk"))
        .values(customer_name=bindparam("name"))
    )
    async with statements(engine, writes="one") as run:
        assert await run.rows(rename, {"talk": talk, "name": "Anna"}) == []
    async with statements(engine) as run:
        named = Prepared(select(conversations.c.customer_name))
        assert await run.scalar(named) == "Anna"


# SQLite: the statements run on the event loop as bot/sqlite_driver.py runs every one,
# waiting out another writer's lock while the loop goes on.


async def test_on_sqlite_a_write_waits_for_the_lock_and_commits_in_the_thread(tmp_path, trips):
    async with engine_on("sqlite", tmp_path) as engine:
        trips.clear()
        async with lock_held(tmp_path / "tolk.db", 0.3):
            started = time.monotonic()
            async with statements(engine, writes="several") as run:
                await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
            waited = time.monotonic() - started
        async with statements(engine) as run:
            assert [row.sender for row in await run.rows(_SENDERS)] == ["rest-anna"]
        assert waited > 0.15, "the write waited for the other's commit"
        assert trips == {"commit": 1}, "reads end no transaction; the write's commit is one trip"


async def test_on_sqlite_a_lock_held_past_the_wait_is_unavailable_and_nothing_is_kept(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(bot.sqlite_driver, "LOCK_WAIT_SECONDS", 0.1)
    async with engine_on("sqlite", tmp_path) as engine:
        async with lock_held(tmp_path / "tolk.db", 0.5):
            with pytest.raises(StoreUnavailable, match="locked"):
                async with statements(engine, writes="one") as run:
                    await run.scalar(_NEW_CONVERSATION, conversation("rest-anna"))
        async with statements(engine, writes="one") as run:
            await run.scalar(_NEW_CONVERSATION, conversation("rest-ben"))
        async with statements(engine) as run:
            assert [row.sender for row in await run.rows(_SENDERS)] == ["rest-ben"]
