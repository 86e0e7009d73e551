"""Alembic's entry point: migrates on the connection it is handed (bot.migrations), or
on TOLK_DATABASE_URL / sqlalchemy.url through the async engine bot/db.py makes (the
gateway has asyncpg and aiosqlite only, no sync PostgreSQL driver)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.db import create_engine, metadata
from bot.migrations import include_object

# Any number: the key of the PostgreSQL advisory lock that serialises migrations, so
# that two operators (or two replicas) upgrading at once apply each revision once.
_LOCK_KEY = 7_400_131


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        # SQLite alters tables by copying them (batch mode) when a revision needs it.
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "TOLK_DATABASE_URL", ""
    )
    if not url:
        raise SystemExit("set TOLK_DATABASE_URL (or sqlalchemy.url) to the database to migrate")
    asyncio.run(_run_on_url(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: they run on the database")
main()
