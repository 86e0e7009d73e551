"""`python -m bot db upgrade|current` and the check `serve` makes before it starts."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from bot.db import create_engine
from bot.migrations import current, heads, require_head, upgrade
from bot.settings import Settings


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def run_upgrade(settings: Settings) -> int:
    async def run() -> tuple[tuple[str, ...], tuple[str, ...]]:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as connection:
                before = await connection.run_sync(current)
            await upgrade(engine)
            async with engine.connect() as connection:
                return before, await connection.run_sync(current)
        finally:
            await engine.dispose()

    before, after = asyncio.run(run())
    where = _where(settings.database_url)
    if before == after:
        print(f"{where}: already at {', '.join(after)}")
    else:
        print(f"{where}: upgraded from {', '.join(before) or 'nothing'} to {', '.join(after)}")
    return 0


def run_current(settings: Settings) -> int:
    async def run() -> tuple[str, ...]:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current)
        finally:
            await engine.dispose()

    at, wanted = asyncio.run(run()), heads()
    print(
        f"{_where(settings.database_url)}: at {', '.join(at) or 'nothing'}; "
        f"head {', '.join(wanted)}"
    )
    return 0 if set(at) == set(wanted) else 1


def check_schema(settings: Settings) -> None:
    """Raise SchemaNotCurrent (bot/errors.py) unless the database is at head."""

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await require_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
