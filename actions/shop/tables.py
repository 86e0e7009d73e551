"""The demo shop's tables, in the database the gateway uses too (TOLK_DATABASE_URL): the
action server creates them at start (`actions.database.create_schema`); the gateway never
reads them. A real shop (TOLK_SHOP_URL) keeps its own data and these stay empty."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no time zone, so every timestamp is stored as UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# Emails are stored lower-case. Deleting a customer deletes their orders, and an order takes
# its items, shipment, refunds and invoice with it.

shop_customers = Table(
    "shop_customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

shop_orders = Table(
    "shop_orders",
    metadata,
    # The shop's order number as customers type it ("10001"), so a string.
    Column("number", String(32), primary_key=True),
    Column(
        "customer_id",
        Integer,
        ForeignKey("shop_customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # The address the order belongs to (what verification compares); follows e-mail changes.
    Column("email", String(254), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # processing | shipped | delivered | cancelled
    Column("placed_on", Date, nullable=False),
    Column("total_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("shipping_address", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

shop_items = Table(
    "shop_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "order_number",
        String(32),
        ForeignKey("shop_orders.number", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price_cents", Integer, nullable=False),  # per piece
)

shop_shipments = Table(
    "shop_shipments",
    metadata,
    Column(
        "order_number",
        String(32),
        ForeignKey("shop_orders.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("carrier", String(64), nullable=False),
    Column("tracking_number", String(64), nullable=False),
    Column("tracking_url", String(500)),
    Column("shipped_on", Date),
    Column("expected_on", Date),
    Column("delivered_on", Date),
)

shop_refunds = Table(
    "shop_refunds",
    metadata,
    Column("id", String(32), primary_key=True),  # "RF-10005-1"
    Column(
        "order_number",
        String(32),
        ForeignKey("shop_orders.number", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("status", String(16), nullable=False),  # requested | approved | paid | rejected
    Column("amount_cents", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("expected_on", Date),
    Column("created_at", DateTime, nullable=False),
)

shop_invoices = Table(
    "shop_invoices",
    metadata,
    Column(
        "order_number",
        String(32),
        ForeignKey("shop_orders.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("number", String(32), nullable=False, unique=True),  # "INV-10001"
    Column("issued_on", Date, nullable=False),
)

shop_emails = Table(
    "shop_emails",
    metadata,
    # The demo shop sends no mail: this outbox is where its reset links and confirmations
    # can be read (tests, the README's walk-through).
    Column("id", Integer, primary_key=True),
    Column("to_address", String(254), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)
