"""Baseline: the schema as `create_all` plus the start-time ALTER TABLEs made it.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Idempotent, so that it serves an empty database and one made before migrations alike:
the tables below (a frozen copy of bot/db.py as of this revision; later revisions change
the schema, never this copy) are created where missing, then what older versions did at
every start is done once more: missing nullable columns added, VARCHARs widened on
PostgreSQL, the partial indexes created (closing duplicate open tickets first), and the
one data migration (REST conversations keyed by channel) applied unless recorded.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
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
    func,
    select,
    text,
    update,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

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
    Column("created_at", DateTime, nullable=False),
    Column("assigned_at", DateTime),
    Column("first_response_at", DateTime),
    Column("resolved_at", DateTime),
    Column("csat", Integer),
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


# Which one-off data migrations (_DATA_MIGRATIONS below) this database has had.
schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade() -> None:
    connection = op.get_bind()
    metadata.create_all(connection, checkfirst=True)
    _add_missing_columns(connection)
    _widen_columns(connection)
    _add_missing_indexes(connection)
    _migrate_data(connection)


def downgrade() -> None:
    # Dropping every table would erase all conversations: refuse rather than do that.
    raise NotImplementedError("the baseline is not downgraded; restore a backup instead")


def _add_missing_columns(connection) -> None:
    """Columns newer than the database (new nullable columns only, as before)."""
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        existing = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in existing and column.nullable:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(
                    text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                )


def _widen_columns(connection) -> None:
    """PostgreSQL enforces VARCHAR lengths (SQLite does not): widen what a newer version
    made wider (conversations.sender for channel-qualified keys)."""
    if connection.dialect.name != "postgresql":
        return
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        existing = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            wanted = getattr(column.type, "length", None)
            present = getattr(existing.get(column.name), "length", None)
            if isinstance(column.type, String) and wanted and present and present < wanted:
                connection.execute(
                    text(
                        f'ALTER TABLE {table.name} ALTER COLUMN "{column.name}" '
                        f"TYPE VARCHAR({wanted})"
                    )
                )


def _add_missing_indexes(connection) -> None:
    """Indexes newer than their table (create_all makes them for new tables only)."""
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda index: index.name):
            if index.name in present:
                continue
            if index.name == OPEN_TICKET_INDEX.name:
                _close_duplicate_open_tickets(connection)
            index.create(connection)


def _close_duplicate_open_tickets(connection) -> None:
    """Databases made before the index may hold two open tickets of one conversation:
    keep the one a person holds (else the oldest) open and resolve the others."""
    rows = connection.execute(
        select(tickets.c.id, tickets.c.conversation_id, tickets.c.status)
        .where(tickets.c.status != "resolved")
        .order_by(tickets.c.conversation_id, tickets.c.id)
    ).all()
    kept: dict[int, int] = {}
    extra = []
    for row in sorted(rows, key=lambda row: (row.status != "assigned", row.id)):
        if row.conversation_id in kept:
            extra.append(row.id)
        else:
            kept[row.conversation_id] = row.id
    if extra:
        connection.execute(
            update(tickets)
            .where(tickets.c.id.in_(extra))
            .values(status="resolved", resolved_at=utcnow())
        )


def _key_rest_conversations(connection) -> None:
    """Before conversations were keyed by channel, a REST conversation was stored under the
    client's sender as sent; its key is now `rest-<sender>` (bot/senders.py). Longest
    first, so that "x" becomes "rest-x" only after an old "rest-x" became "rest-rest-x"
    (the unique key is checked row by row)."""
    rows = connection.execute(
        select(conversations.c.id, conversations.c.sender)
        .where(conversations.c.channel == "rest")
        .order_by(func.length(conversations.c.sender).desc())
    ).all()
    for row in rows:
        connection.execute(
            update(conversations)
            .where(conversations.c.id == row.id)
            .values(sender=f"rest-{row.sender}")
        )


# One-off changes to the data of an older version's database, each applied once, in order.
_DATA_MIGRATIONS = (("conversations keyed by channel", _key_rest_conversations),)


def _migrate_data(connection) -> None:
    done = set(connection.execute(select(schema_migrations.c.name)).scalars())
    for name, step in _DATA_MIGRATIONS:
        if name not in done:
            step(connection)
            connection.execute(schema_migrations.insert().values(name=name, applied_at=utcnow()))
