"""The gateway's SQL schema and engine (SQLAlchemy 2, asyncio; the gateway's environment only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot import migrations
from bot.db_errors import drop_closed_connections, translate_errors
from bot.sqlite_driver import IN_THREAD, no_busy_wait
from bot.sqlite_driver import NAME as SQLITE_DRIVER
from bot.sqlite_driver import register as register_sqlite_driver
from tolk_core.sqlite import set_pragmas

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    # The conversation key, channel first (bot/senders.py): "rest-anna", "telegram-42".
    Column("sender", String(160), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("language", String(16)),
    Column("customer_name", String(200)),
    # IANA zone the channel told us (web chat: the browser's), for times we promise.
    Column("timezone", String(64)),
    # Unused since bot/surveys/ owns survey state (the `surveys` table); kept so that
    # older databases need no migration. Was: the ticket whose CSAT rating was pending.
    Column("csat_ticket_id", Integer),
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
    # For customer messages: received -> answered | failed (kept for a retry) | ...;
    # see bot/retry.py. For bot messages: "failed" when said while the customer's message
    # was unanswered (the apology), so that a redelivery replays the answer instead.
    Column("status", String(16)),
    # Retries (bot/retry.py): tries so far; while `received`, the end of the current try's
    # lease; while `failed`, the earliest next try.
    Column("attempts", Integer),
    Column("not_before", DateTime),
    # For bot messages: the customer message they answer.
    Column("reply_to", Integer),
    # What Rasa saw when the customer wrote in a non-native language (English pivot).
    Column("pivot_text", Text),
    # For agent messages: who wrote it, and what they wrote before it was translated.
    Column("agent_id", Integer),
    Column("source_text", Text),
    Column("source_language", String(16)),
    # For customer messages, what Rasa made of it, recorded when Rasa asks /nlg for the
    # answer (bot/outcomes.py): the intent ("faq/shipping_time" for a FAQ), its
    # confidence, and what kind of answer the bot gave (faq | account | fallback | other).
    # The metrics read them (bot/metrics/): the topic of a request, whether it was answered.
    Column("intent", String(64)),
    Column("intent_confidence", Float),
    Column("answer", String(16)),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "external_id", name="uq_message_external_id"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("languages", String(200), nullable=False),  # comma-separated, first = own
    # Only hashes: the API token is shown once by `agents add`, the password never.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("hours", String(200), nullable=False),  # "mon-fri 09:00-17:00"
    Column("max_tickets", Integer, nullable=False),
    Column("last_seen_at", DateTime),
    Column("last_assigned_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    # "agent" or "lead" (bot/handoff/agents.py ROLES): leads also publish incidents and
    # read the dashboard.
    Column("role", String(10), nullable=False, server_default="agent"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(16), nullable=False, index=True),  # queued | assigned | resolved
    # request | complaint | anger | stuck | legal | fraud | chargeback | safety
    Column("reason", String(16), nullable=False),
    Column("intent", String(64)),
    Column("priority", String(8), nullable=False),  # hot | cold
    Column("priority_why", String(200)),
    Column("language", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id"), index=True),
    Column("after_hours", Integer, nullable=False, default=0),
    Column("follow_up_email", String(254)),
    Column("sla_due_at", DateTime, nullable=False),
    # When the SLA warning is due, and when the warning and the breach alert went out
    # (bot/handoff/sla.py; revision 0002).
    Column("sla_warn_at", DateTime),
    Column("sla_warned_at", DateTime),
    Column("sla_breach_alerted_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("assigned_at", DateTime),
    Column("first_response_at", DateTime),
    Column("resolved_at", DateTime),
    Column("csat", Integer),
)

# Which gateway replica runs each background job, until when (bot/leases.py; revision 0003).
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# What leads and agents are alerted to (bot/alerts.py): SLA warnings and breaches. The
# console pushes new rows to every agent; the webhook got each once.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # sla_warning | sla_breach | surge
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE")),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False, index=True),
    # A surge's intent, so that a lead can publish the incident notice from the alert.
    Column("intent", String(64)),
)

# Survey questions the bot asked and their answers (bot/surveys/): one row per question.
surveys = Table(
    "surveys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(8), nullable=False),  # csat | ces | nps
    # What made the bot ask: bot (a bot-only request answered), ticket, account.
    Column("occasion", String(16), nullable=False),
    Column("ticket_id", Integer),
    Column("language", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    # asked -> answered | skipped | dropped (the customer wrote something else, or the
    # session ended); nps: asked -> why (score given, "why?" asked) -> answered | ...
    Column("status", String(16), nullable=False),
    Column("score", Integer),
    # NPS "why?": what the customer wrote, and its English translation for the lead.
    Column("reason", Text),
    Column("reason_en", Text),
    Column("asked_at", DateTime, nullable=False, index=True),
    Column("answered_at", DateTime),
)

# Incidents (bot/incidents/): a problem many customers share, and the notice a lead
# published about it, told to every customer who asks about its intent (revision 0004).
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("intent", String(64), nullable=False),  # the topic: "faq/payment_methods"
    Column("status", String(8), nullable=False),  # open | closed
    # What the lead wrote, in their language; each language's version is in incident_texts.
    Column("text", Text, nullable=False),
    Column("language", String(16), nullable=False),
    Column("opened_by", Integer, ForeignKey("agents.id"), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_by", Integer, ForeignKey("agents.id")),
    Column("closed_at", DateTime),
    Column("close_text", Text),  # the lead's words added to "it is fixed", if any
)

# One open incident per intent, whichever replica publishes (two leads at once).
OPEN_INCIDENT_INDEX = Index(
    "uq_incidents_open_intent",
    incidents.c.intent,
    unique=True,
    sqlite_where=incidents.c.status == "open",
    postgresql_where=incidents.c.status == "open",
)

# An incident's notice (kind "notice") and closing words ("fixed") per language: the
# lead's own version (origin "lead") or a machine translation of theirs ("machine").
incident_texts = Table(
    "incident_texts",
    metadata,
    Column(
        "incident_id",
        Integer,
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(8), primary_key=True),  # notice | fixed
    Column("language", String(16), primary_key=True),
    Column("text", Text, nullable=False),
    Column("origin", String(8), nullable=False),  # lead | machine
)

# The customers told of an incident: the row is the claim (nobody is told twice), and
# closing tells each of them once that it is fixed (fixed_told_at).
incident_customers = Table(
    "incident_customers",
    metadata,
    Column(
        "incident_id",
        Integer,
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("language", String(16), nullable=False),
    Column("told_at", DateTime, nullable=False),
    Column("fixed_told_at", DateTime),
)

# When leads were last alerted to a surge of customers about an intent: the UPDATE or
# INSERT that moves it is the claim, so several replicas alert once per window.
surge_alerts = Table(
    "surge_alerts",
    metadata,
    Column("intent", String(64), primary_key=True),
    Column("alerted_at", DateTime, nullable=False),
)

# Counting customers about one intent in the last minutes (bot/incidents/surge.py), on
# every customer message.
MESSAGE_INTENT_INDEX = Index(
    "ix_messages_intent_created_at", messages.c.intent, messages.c.created_at
)

# The few messages still waiting for an answer, for the retry sweep (bot/retry.py).
UNANSWERED_INDEX = Index(
    "ix_messages_unanswered",
    messages.c.status,
    sqlite_where=messages.c.status.in_(("received", "failed")),
    postgresql_where=messages.c.status.in_(("received", "failed")),
)

# One open ticket per conversation, whoever asks at the same time (two "/human" at once).
OPEN_TICKET_INDEX = Index(
    "uq_tickets_open_conversation",
    tickets.c.conversation_id,
    unique=True,
    sqlite_where=tickets.c.status != "resolved",
    postgresql_where=tickets.c.status != "resolved",
)

ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
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

# Which conversations' texts made or matched a memory entry: masking takes out names and
# numbers, not the rest of what a customer wrote, so erasing a customer (and retention)
# removes the entries only their conversations used (bot/erase.py).
translation_memory_uses = Table(
    "translation_memory_uses",
    metadata,
    Column(
        "entry_id",
        Integer,
        ForeignKey("translation_memory.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


telegram_updates = Table(
    "telegram_updates",
    metadata,
    # Telegram's own id: an update delivered twice (webhook retries) is stored once.
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, index=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # received | done
    Column("received_at", DateTime, nullable=False),
)

telegram_files = Table(
    "telegram_files",
    metadata,
    # A file a Telegram customer sent, and the message that brought it: only the agent
    # holding a ticket of that conversation may fetch it (bot/channels/telegram/files.py).
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", String(256), nullable=False, index=True),
    # What the customer's app called it (documents); photos and voice messages have none.
    Column("file_name", String(256)),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "file_id", name="uq_telegram_file"),
)


meta_inbound = Table(
    "meta_inbound",
    metadata,
    # What WhatsApp, Messenger and Instagram post (bot/channels/meta/inbound.py), stored
    # before the 200: Meta redelivers what it got no 200 for, so (channel, message id)
    # is stored once; handled per conversation in the order the customer sent them.
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    # The platform's message id (WhatsApp's wamid, Messenger's mid, a postback's id).
    Column("message_id", String(256), nullable=False),
    # The conversation key (bot/senders.py): erasing a customer deletes by it.
    Column("sender", String(160), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # received | done
    # When the customer sent it (the platform's timestamp): the order, and the start of
    # the 24-hour customer-service window (bot/channels/meta/window.py).
    Column("sent_at", DateTime, nullable=False),
    Column("received_at", DateTime, nullable=False),
    UniqueConstraint("channel", "message_id", name="uq_meta_inbound"),
)

meta_outbound = Table(
    "meta_outbound",
    metadata,
    # Each message sent to a Meta channel's customer and what became of it: sending ->
    # sent (the platform's id) -> delivered | read, or failed with the reason; WhatsApp's
    # status callbacks move it on. A failure is kept here, the text in the transcript.
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("sender", String(160), nullable=False, index=True),
    Column("message_id", String(256), index=True),
    Column("kind", String(16), nullable=False),  # text | buttons | list | template
    Column("status", String(16), nullable=False),
    Column("error", String(500)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)


email_threads = Table(
    "email_threads",
    metadata,
    # A conversation continued by e-mail (bot/channels/email/): the address the customer
    # gave, the reference our mails carry, the last Message-ID (for In-Reply-To), and a
    # window of mails handled, so that a mail loop stops at a count.
    Column("id", Integer, primary_key=True),
    # The conversation key (bot/senders.py): erasing a customer deletes by it.
    Column("sender", String(160), nullable=False, index=True),
    Column("address", String(320), nullable=False),
    Column("reference", String(16), nullable=False, unique=True),
    Column("last_message_id", String(500)),
    Column("window_start", DateTime, nullable=False),
    Column("window_count", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
)

email_mailboxes = Table(
    "email_mailboxes",
    metadata,
    # The highest IMAP UID stored per mailbox and UIDVALIDITY: nothing is read twice.
    Column("mailbox", String(500), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
)


# Which one-off data migrations this database has had (before Alembic; the baseline
# revision, bot/migrations/versions/0001_baseline.py, applies the last of them).
schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no time zone, so every timestamp is stored as UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def async_url(url: str) -> str:
    """Accept the usual sync URLs (sqlite://, postgresql://) and pick the async driver."""
    parsed = make_url(url)
    # SQLite through aiosqlite, its statements on the event loop (bot/sqlite_driver.py).
    register_sqlite_driver()
    drivers = {"sqlite": f"sqlite+{SQLITE_DRIVER}", "postgresql": "postgresql+asyncpg"}
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
            poolclass=AsyncAdaptedQueuePool,
            pool_size=5,
            max_overflow=10,
        )
        event.listen(engine.sync_engine, "connect", set_pragmas)
        # The lock is waited for by the driver, which lets the event loop go on meanwhile
        # (bot/sqlite_driver.py), not by SQLite with the busy timeout just set.
        event.listen(engine.sync_engine, "connect", no_busy_wait)
    else:
        engine = create_async_engine(url, future=True)
        drop_closed_connections(engine)
    # The store boundary: driver errors become the domain's (bot/db_errors.py).
    translate_errors(engine)
    return engine


@asynccontextmanager
async def reading(engine: AsyncEngine, *, scans: bool = False) -> AsyncIterator[AsyncConnection]:
    """A connection for statements that only read, like `engine.connect()` but with no
    transaction on PostgreSQL: its BEGIN and ROLLBACK are two of the three round trips of
    a one-statement read. Each statement still sees everything committed before it, as in
    a READ COMMITTED transaction. (SQLite begins no transaction for a read anyway.)

    `scans`: the statements may read a large part of a table (reports over weeks); on
    SQLite they run in the connection's thread, not on the event loop, which other
    requests need meanwhile (bot/sqlite_driver.py)."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        elif scans:
            await connection.execution_options(**{IN_THREAD: True})
        yield connection


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a write that is a single statement, which is atomic on its own: on
    PostgreSQL with no transaction around it (no BEGIN and COMMIT round trips); on SQLite
    in one as usual, committed on the way out. Writes that must hold together take
    `engine.begin()`."""
    if engine.dialect.name != "postgresql":
        async with engine.begin() as connection:
            yield connection
        return
    async with reading(engine) as connection:  # the same connection, in autocommit
        yield connection


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an up-to-date schema for a command's run, disposed afterwards."""
    engine = create_engine(url)
    try:
        await create_schema(engine)
        yield engine
    finally:
        await engine.dispose()


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema with the migrations (bot/migrations/):
    for commands and tests. `serve` never migrates; it checks (bot.migrations.require_head)."""
    await migrations.upgrade(engine)
