"""The action server's engine on the shared database, and the demo shop's tables in it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from actions.shop.tables import metadata
from tolk_core.sqlite import set_pragmas

# The usual sync URLs (sqlite://, postgresql://) name the async driver we install.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, future=True, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, future=True, connect_args={"timeout": 15})
    event.listen(engine.sync_engine, "connect", set_pragmas)
    return engine


async def create_schema(engine: AsyncEngine) -> None:
    """The demo shop's and the verifier's tables (new tables only: nothing to migrate)."""
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
