"""The store boundary (bot/db_errors.py): a locked or unreachable database is StoreUnavailable,
a constraint StoreConflict, for every store, raised by the engine itself."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

import bot.sqlite_driver
from bot import cli
from bot.app import create_app
from bot.channels.telegram.updates import UpdateLog
from bot.db import create_engine, create_schema
from bot.errors import Conflict, StoreUnavailable, Unavailable
from bot.handoff.agents import AgentError, AgentStore
from bot.store import Store
from tests.gateway_fixtures import postgres_engine


@pytest.fixture(autouse=True)
def impatient(monkeypatch):
    """The gateway waits up to 15 s for a lock (bot/sqlite_driver.py); these tests 50 ms."""
    monkeypatch.setattr(bot.sqlite_driver, "LOCK_WAIT_SECONDS", 0.05)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holding the database's write lock (the action server, a backup)."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_locked_database_is_unavailable_and_nothing_is_lost(engine, tmp_path):
    store = Store(engine)
    with locked(tmp_path / "tolk.db"), pytest.raises(StoreUnavailable) as raised:
        await store.receive(sender="rest-lock", channel="rest", text="hello")
    assert isinstance(raised.value, Unavailable)
    assert "locked" in raised.value.detail, "the driver's words, for the log"
    received = await store.receive(sender="rest-lock", channel="rest", text="hello")
    assert not received.duplicate, "the engine works again once the lock is gone"


async def test_every_store_gets_the_translation_not_only_conversations(engine, tmp_path):
    with locked(tmp_path / "tolk.db"):
        with pytest.raises(StoreUnavailable):
            await UpdateLog(engine).store({"update_id": 1, "message": {"chat": {"id": 5}}})
        with pytest.raises(StoreUnavailable):
            await AgentStore(engine).add("Mina", ("en",))


async def test_expected_races_still_pass_as_conflicts(engine):
    updates = UpdateLog(engine)
    assert await updates.store({"update_id": 2, "message": {"chat": {"id": 5}}}) is not None
    assert await updates.store({"update_id": 2, "message": {"chat": {"id": 5}}}) is None
    agents = AgentStore(engine)
    await agents.add("Mina", ("en",))
    with pytest.raises(AgentError, match="exists already"):
        await agents.add("Mina", ("nl",))


async def test_a_constraint_is_a_conflict(engine):
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO schema_migrations (name, applied_at) VALUES ('x', '2026-01-01')"
        )
    with pytest.raises(Conflict, match="changed meanwhile") as raised:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO schema_migrations (name, applied_at) VALUES ('x', '2026-01-01')"
            )
    assert "UNIQUE" in raised.value.detail


async def test_a_constraint_only_our_code_can_break_stays_a_bug(engine):
    # NOT NULL: no other request causes it, so no "reload and try again" (a 500, logged).
    with pytest.raises(IntegrityError, match="NOT NULL"):
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO schema_migrations (name) VALUES ('y')")


async def test_an_unreachable_postgresql_is_unavailable():
    # Port 9 (discard) refuses: asyncpg's bare OSError never reaches handle_error.
    engine = create_engine("postgresql://tolk:secret@127.0.0.1:9/tolk")
    try:
        with pytest.raises(StoreUnavailable):
            await Store(engine).ping()
    finally:
        await engine.dispose()


async def test_the_api_answers_a_real_lock_503_and_keeps_the_contract(
    aiohttp_client, settings, tmp_path
):
    client = await aiohttp_client(create_app(settings))
    body = {"sender": "lock", "text": "hello"}
    with locked(tmp_path / "tolk.db"):
        response = await client.post("/api/v1/messages", json=body)
    assert response.status == 503
    assert await response.json() == {
        "error": "the message store is busy or unavailable; please retry shortly"
    }
    assert (await client.post("/api/v1/messages", json=body)).status == 200


def test_an_operator_command_says_why_instead_of_a_traceback(
    settings, tmp_path, monkeypatch, capsys
):
    async def schema() -> None:
        engine = create_engine(settings.database_url)
        await create_schema(engine)
        await engine.dispose()

    asyncio.run(schema())
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls, env=None: settings))
    with locked(tmp_path / "tolk.db"):
        code = cli.main(["agents", "add", "--name", "Mina", "--languages", "en"])
    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("agents: the message store is busy or unavailable")
    assert "Traceback" not in error


async def _end_every_other_backend(url: str) -> None:
    """What a PostgreSQL restart does to a pool: the server closes each connection."""
    import asyncpg

    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"SELECT pg_terminate_backend(pid) {others}")
        for _ in range(500):  # the backends end within milliseconds; 5 s at most
            if not await admin.fetchval(f"SELECT count(*) {others}"):
                return
            await asyncio.sleep(0.01)
        pytest.fail("PostgreSQL did not end the backends within 5 s")
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_connections_postgresql_closed_are_replaced_before_anyone_uses_them():
    async with postgres_engine() as (engine, url):
        store = Store(engine)
        first = await store.receive(sender="rest-anna", channel="rest", text="hello")
        await _end_every_other_backend(url)
        await asyncio.sleep(0.05)  # the event loop reads the servers' goodbyes
        # Neither a read nor a write sees the closed connections.
        assert await store.conversation("rest-anna") == first.conversation
        second = await store.receive(sender="rest-anna", channel="rest", text="again")
        assert second.message_seq > first.message_seq
