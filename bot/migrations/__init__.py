"""The gateway database's schema changes (Alembic): `python -m bot db upgrade` applies them.

They own every table of bot/db.py's metadata. The demo shop's and the verifier's tables
(actions/shop/) are the action server's: it creates them, new tables only, and they are
left out here (env.py) so that Alembic neither creates nor drops them. The first revision
is today's schema and is idempotent: it also brings a database that the code before
migrations made (`create_all` plus ALTER TABLE at start) to that schema, so such a
database upgrades like an empty one, no `stamp` needed.

One process migrates (the launcher, scripts/stack.py, or an operator); `serve` only checks
that the database is at head (`require_head`) and refuses to start otherwise.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import SchemaNotCurrent

HERE = Path(__file__).resolve().parent


def include_object(obj, name, kind, reflected, compare_to) -> bool:
    """Alembic's filter: tables that are not the gateway's (the action server's, in the
    same database) are neither created, compared nor dropped."""
    return not (kind == "table" and reflected and compare_to is None)


def config(url: str | None = None) -> Config:
    """Alembic's configuration without an .ini file (no file to find, nothing global)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url:
        # ConfigParser interpolation: a literal % (URL-encoded password) must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(config()).get_heads())


def current(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (none: empty, or made before migrations)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Apply the migrations on an open (sync) connection, in its transaction."""
    cfg = config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_connection, revision)


async def require_head(engine: AsyncEngine) -> None:
    """Raise SchemaNotCurrent, saying what to run, unless the database is at head."""
    async with engine.connect() as connection:
        at = await connection.run_sync(current)
    wanted = heads()
    if set(at) != set(wanted):
        state = f"at revision {', '.join(at)}" if at else "not migrated (empty or older)"
        raise SchemaNotCurrent(
            f"The database is {state}; this version needs {', '.join(wanted)}. "
            "Run `python -m bot db upgrade` (or `make migrate`) once, then start again."
        )
