"""The migrations (bot/migrations/) on SQLite and PostgreSQL: an empty database and one
the code before migrations made both end at the schema bot/db.py declares, with nothing
left for Alembic to autogenerate; `serve` refuses a database that is behind."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from actions.shop.tables import metadata as shop_metadata
from bot import migrations
from bot.db import (
    OPEN_TICKET_INDEX,
    UNANSWERED_INDEX,
    conversations,
    create_engine,
    create_schema,
    metadata,
    schema_migrations,
    tickets,
    utcnow,
)
from bot.errors import SchemaNotCurrent
from bot.migrations.commands import check_schema, run_current, run_upgrade
from bot.settings import Settings
from tests.servers import postgres_database

# The schema as it was when migrations began (a frozen copy in the baseline revision):
# what a database made before them holds, whatever later revisions add.
BASELINE = importlib.import_module("bot.migrations.versions.0001_baseline").metadata

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def url(request, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tolk.db'}"
        return
    async with postgres_database() as database_url:
        yield database_url


@pytest.fixture
async def engine(url) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def _differences(connection) -> list:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": migrations.include_object},
    )
    return compare_metadata(context, metadata)


async def _state(engine: AsyncEngine) -> tuple[list, tuple[str, ...]]:
    async with engine.connect() as connection:
        return await connection.run_sync(_differences), await connection.run_sync(
            migrations.current
        )


async def test_an_empty_database_upgrades_to_the_declared_schema(engine):
    await migrations.upgrade(engine)
    differences, at = await _state(engine)
    assert differences == []
    assert at == migrations.heads()
    await migrations.require_head(engine)  # what `serve` checks


async def test_upgrading_twice_changes_nothing(engine):
    await migrations.upgrade(engine)
    await migrations.upgrade(engine)
    async with engine.connect() as connection:
        versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert tuple(row[0] for row in versions) == migrations.heads()


async def test_the_action_servers_tables_are_left_alone(engine):
    """Same database, the action server's own tables: neither dropped nor compared."""
    async with engine.begin() as connection:
        await connection.run_sync(shop_metadata.create_all)
    await migrations.upgrade(engine)
    differences, _ = await _state(engine)
    assert differences == []
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(shop_metadata.tables) <= names


async def test_a_database_made_before_migrations_upgrades_and_keeps_its_rows(engine):
    """As the old start-up code left it (create_all, its data migration recorded), but a
    version behind: two columns and the partial indexes missing, two open tickets."""
    now = utcnow()
    async with engine.begin() as connection:
        await connection.run_sync(BASELINE.create_all)
        await connection.execute(text(f"DROP INDEX {OPEN_TICKET_INDEX.name}"))
        await connection.execute(text(f"DROP INDEX {UNANSWERED_INDEX.name}"))
        await connection.execute(
            schema_migrations.insert().values(name="conversations keyed by channel", applied_at=now)
        )
        conversation = (
            await connection.execute(
                conversations.insert().values(
                    sender="rest-anna", channel="rest", created_at=now, updated_at=now
                )
            )
        ).inserted_primary_key[0]
        for status in ("queued", "assigned"):
            await connection.execute(
                tickets.insert().values(
                    conversation_id=conversation,
                    status=status,
                    reason="request",
                    priority="cold",
                    language="en",
                    channel="rest",
                    summary="help",
                    after_hours=0,
                    sla_due_at=now,
                    created_at=now,
                )
            )
    # A separate transaction: SQLite drops a column by copying the table.
    async with engine.begin() as connection:
        for column in ("intent", "answer"):
            await connection.execute(text(f"ALTER TABLE messages DROP COLUMN {column}"))
    with pytest.raises(SchemaNotCurrent, match="db upgrade"):
        await migrations.require_head(engine)

    await migrations.upgrade(engine)

    differences, at = await _state(engine)
    assert differences == []
    assert at == migrations.heads()
    async with engine.connect() as connection:
        statuses = list(await connection.scalars(select(tickets.c.status).order_by(tickets.c.id)))
        senders = list(await connection.scalars(select(conversations.c.sender)))
        recorded = await connection.scalar(select(func.count()).select_from(schema_migrations))
    assert statuses == ["resolved", "assigned"]  # one open ticket: the one a person holds
    assert senders == ["rest-anna"]  # the data migration, recorded, did not run again
    assert recorded == 1


@pytest.mark.postgres
async def test_two_upgrades_at_once_apply_each_revision_once():
    """Two operators (or a launcher and an operator) at the same time: the advisory lock in
    env.py makes the second wait, then find the database at head."""
    async with postgres_database() as url:
        env = {**os.environ, "TOLK_DATABASE_URL": url}
        command = [sys.executable, "-m", "bot", "db", "upgrade"]
        runs = [
            await asyncio.create_subprocess_exec(
                *command, cwd=PROJECT, env=env, stderr=asyncio.subprocess.PIPE
            )
            for _ in range(2)
        ]
        for run in runs:
            _, errors = await asyncio.wait_for(run.communicate(), timeout=120)
            assert run.returncode == 0, errors.decode()
        engine = create_engine(url)
        try:
            differences, at = await _state(engine)
        finally:
            await engine.dispose()
    assert differences == []
    assert at == migrations.heads()


def test_serve_refuses_a_database_that_is_behind_and_db_upgrade_fixes_it(tmp_path, capsys):
    database_url = f"sqlite:///{tmp_path / 'tolk.db'}"
    env = {**os.environ, "TOLK_DATABASE_URL": database_url, "TOLK_PORT": "1"}

    def bot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = bot("serve")  # stops before it listens (port 1 would fail anyway)
    assert refused.returncode == 1
    assert "not migrated" in refused.stderr and "python -m bot db upgrade" in refused.stderr
    settings = Settings(database_url=database_url)
    assert run_current(settings) == 1
    upgraded = bot("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    head = ", ".join(migrations.heads())
    assert f"upgraded from nothing to {head}" in upgraded.stdout
    capsys.readouterr()
    assert run_upgrade(settings) == 0
    assert f"already at {head}" in capsys.readouterr().out
    assert run_current(settings) == 0
    check_schema(settings)  # what serve does first: no exception at head


async def test_create_schema_is_the_migrations(tmp_path):
    """What tests and commands call makes the same schema, versioned."""
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    try:
        await create_schema(engine)
        differences, at = await _state(engine)
    finally:
        await engine.dispose()
    assert differences == [] and at == migrations.heads()
