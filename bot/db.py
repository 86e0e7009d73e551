"""The gateway's SQL schema and engine (SQLAlchemy 1.4, 2.0-style API, asyncio)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(128), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("language", String(16)),
    Column("customer_name", String(200)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    # The id doubles as the public `seq`: increasing, so `?after=N` pages forward.
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("author", String(16), nullable=False),  # customer | bot | agent
    Column("text", Text, nullable=False),
    Column("language", String(16)),
    # The channel's own message id, so a redelivered message is stored once.
    Column("external_id", String(128)),
    # For customer messages: received -> answered | failed (kept for a retry).
    Column("status", String(16)),
    # What Rasa saw when the customer wrote in a non-native language (English pivot).
    Column("pivot_text", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "external_id", name="uq_message_external_id"),
)


translation_memory = Table(
    "translation_memory",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_language", String(16), nullable=False),
    Column("target_language", String(16), nullable=False),
    # Texts are stored masked (placeholders for PII), so the memory holds no personal
    # data and one entry serves every customer who asks the same thing.
    Column("source_hash", String(64), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("translated_text", Text, nullable=False),
    Column("origin", String(16), nullable=False),  # human | machine
    Column("hits", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint(
        "source_language", "target_language", "source_hash", "origin", name="uq_translation"
    ),
)


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no time zone, so every timestamp is stored as UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def async_url(url: str) -> str:
    """Accept the usual sync URLs (sqlite://, postgresql://) and pick the async driver."""
    parsed = make_url(url)
    drivers = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    backend = parsed.get_backend_name()
    if parsed.drivername in drivers:
        parsed = parsed.set(drivername=drivers[backend])
    return str(parsed.render_as_string(hide_password=False))


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new SQLite connection (an aiosqlite thread) per checkout
        # by default, which costs milliseconds per query; keep a small pool instead.
        engine = create_async_engine(
            url,
            future=True,
            connect_args={"timeout": 15},
            poolclass=AsyncAdaptedQueuePool,
            pool_size=5,
            max_overflow=10,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, future=True, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the console read while a message is written; with WAL, synchronous=NORMAL
    # survives a crash of the process (not of the machine) and saves an fsync per commit.
    # Foreign keys make erasing a conversation erase its messages.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(_add_missing_columns)


def _add_missing_columns(connection) -> None:
    """Bring a database made by an older version up to date (new nullable columns only)."""
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        existing = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in existing and column.nullable:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(
                    text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                )
