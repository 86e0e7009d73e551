"""The demo shop: the `Shop` interface on the bot's own database (the `shop_*` tables in
bot/db.py), seeded by `seed_demo` so that a fresh install has orders to talk about.

It sends no mail. Every e-mail it would send (password reset links, confirmations) is written
to the outbox table `shop_emails`, readable with `SqlShop.outbox()`.

Deleting an account deletes the customer with their orders, the orders' items, shipments,
refunds and invoices, and the outbox mail to their address (it holds reset links): a demo
keeps no records that a real shop would keep for its bookkeeping, and sends no confirmation
of the deletion, which would leave the address behind.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from actions.shop.errors import ShopUnavailable
from actions.shop.model import Customer, Item, Order, Refund, Shipment, ShopError
from actions.shop.tables import (
    shop_customers,
    shop_emails,
    shop_invoices,
    shop_items,
    shop_orders,
    shop_refunds,
    shop_shipments,
    utcnow,
)

SITE = "https://shop.example"
RETURN_WINDOW_DAYS = 30
REFUND_DAYS = 10
MAX_ADDRESS = 500

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SentEmail:
    to: str
    subject: str
    body: str
    created_at: datetime


def invoice_url(number: str) -> str:
    return f"{SITE}/invoices/{number}.pdf"


def normal_email(email: str) -> str:
    """Addresses are compared case-insensitively (what customers type varies)."""
    return email.strip().lower()


class SqlShop:
    """The demo shop. `clock` gives naive UTC (like `bot.db.utcnow`); its date is "today"."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    # --- lookups ------------------------------------------------------------------------

    async def order(self, number: str) -> Order | None:
        async with self._connect() as connection:
            return await _load_order(connection, number.strip())

    async def customer(self, email: str) -> Customer | None:
        async with self._connect() as connection:
            row = await _customer_row(connection, normal_email(email))
            if row is None:
                return None
            numbers = await connection.scalars(
                select(shop_orders.c.number)
                .where(shop_orders.c.customer_id == row.id)
                .order_by(shop_orders.c.number)
            )
            return Customer(row.email, row.name, tuple(numbers))

    async def outbox(self, to: str | None = None) -> list[SentEmail]:
        """The mail the demo shop "sent", oldest first; only to `to` when given."""
        query = select(shop_emails).order_by(shop_emails.c.id)
        if to is not None:
            query = query.where(shop_emails.c.to_address == normal_email(to))
        async with self._connect() as connection:
            rows = await connection.execute(query)
            return [SentEmail(r.to_address, r.subject, r.body, r.created_at) for r in rows]

    # --- operations on orders -------------------------------------------------------------

    async def cancel_order(self, number: str) -> Order:
        number = number.strip()
        async with self._begin() as connection:
            order = await _existing_order(connection, number)
            if order.status != "processing":
                raise ShopError(_why_not_cancel(order))
            # Conditional, so that of two cancels at once (or a cancel racing the warehouse)
            # only one changes the order and mails the customer.
            result = await connection.execute(
                update(shop_orders)
                .where(shop_orders.c.number == number, shop_orders.c.status == "processing")
                .values(status="cancelled", updated_at=self._clock())
            )
            if result.rowcount != 1:
                raise ShopError(_why_not_cancel(await _existing_order(connection, number)))
            await self._send(
                connection,
                order.email,
                f"Order {number} is cancelled",
                f"Hello {order.customer_name},\n\nyour order {number} is cancelled. You have "
                "not been charged for it.\n",
            )
            return await _existing_order(connection, number)

    async def change_address(self, number: str, address: str) -> Order:
        number, address = number.strip(), address.strip()
        if not address:
            raise ShopError("the new address is empty")
        if len(address) > MAX_ADDRESS:
            raise ShopError(f"the new address is longer than {MAX_ADDRESS} characters")
        async with self._begin() as connection:
            order = await _existing_order(connection, number)
            if order.status != "processing":
                raise ShopError(_why_not_readdress(order))
            result = await connection.execute(
                update(shop_orders)
                .where(shop_orders.c.number == number, shop_orders.c.status == "processing")
                .values(shipping_address=address, updated_at=self._clock())
            )
            if result.rowcount != 1:  # shipped or cancelled a moment ago
                raise ShopError(_why_not_readdress(await _existing_order(connection, number)))
            await self._send(
                connection,
                order.email,
                f"New delivery address for order {number}",
                f"Hello {order.customer_name},\n\norder {number} will be delivered to:\n\n"
                f"{address}\n",
            )
            return await _existing_order(connection, number)

    async def request_refund(self, number: str, reason: str) -> Refund:
        number, reason = number.strip(), reason.strip()
        today = self._clock().date()
        try:
            return await self._request_refund(number, reason, today)
        except IntegrityError:
            # Another request for this order took the same refund id a moment earlier.
            raise ShopError(f"a refund for order {number} was just requested") from None

    async def _request_refund(self, number: str, reason: str, today: date) -> Refund:
        async with self._begin() as connection:
            order = await _existing_order(connection, number)
            _check_refundable(order, today)
            refund = Refund(
                id=f"RF-{number}-{len(order.refunds) + 1}",
                status="requested",
                amount_cents=order.total_cents,
                reason=reason,
                requested_on=today,
                expected_on=today + timedelta(days=REFUND_DAYS),
            )
            await connection.execute(
                shop_refunds.insert().values(
                    id=refund.id,
                    order_number=number,
                    status=refund.status,
                    amount_cents=refund.amount_cents,
                    reason=refund.reason,
                    requested_on=refund.requested_on,
                    expected_on=refund.expected_on,
                    created_at=self._clock(),
                )
            )
            await self._send(
                connection,
                order.email,
                f"Refund requested for order {number}",
                f"Hello {order.customer_name},\n\nwe received your refund request {refund.id} "
                f"for order {number} ({_money(refund.amount_cents, order.currency)}). Expect "
                f"the money by {refund.expected_on.isoformat()}.\n",
            )
            return refund

    # --- operations on accounts -------------------------------------------------------------

    async def send_password_reset(self, email: str) -> None:
        # One INSERT ... SELECT either way, with the token made either way, so that neither
        # the answer nor its timing tells whether the address has an account.
        email = normal_email(email)
        link = f"{SITE}/reset/{secrets.token_urlsafe(24)}"
        body = (
            f"Someone asked to reset the password of the shop account {email}.\n\n"
            f"Choose a new password here within one hour: {link}\n\n"
            "If that was not you, ignore this e-mail; your password stays as it is.\n"
        )
        found = select(
            shop_customers.c.email,
            literal("Reset your password"),
            literal(body),
            literal(self._clock(), DateTime()),
        ).where(shop_customers.c.email == email)
        async with self._begin() as connection:
            await connection.execute(
                shop_emails.insert().from_select(
                    ["to_address", "subject", "body", "created_at"], found
                )
            )

    async def update_email(self, old: str, new: str) -> None:
        old, new = normal_email(old), normal_email(new)
        if not _EMAIL.match(new):
            raise ShopError(f"{new!r} is not a valid e-mail address")
        if new == old:
            raise ShopError("the new address is the same as the current one")
        try:
            async with self._begin() as connection:
                customer = await _customer_row(connection, old)
                if customer is None:
                    raise ShopError(f"there is no account for {old}")
                if await _customer_row(connection, new) is not None:
                    raise ShopError(f"another account already uses {new}")
                now = self._clock()
                await connection.execute(
                    update(shop_customers)
                    .where(shop_customers.c.id == customer.id)
                    .values(email=new)
                )
                await connection.execute(
                    update(shop_orders)
                    .where(shop_orders.c.customer_id == customer.id)
                    .values(email=new, updated_at=now)
                )
                await self._send(
                    connection,
                    old,
                    "Your e-mail address was changed",
                    f"Hello {customer.name},\n\nyour shop account now uses {new} instead of "
                    f"this address. If you did not ask for this, contact us right away.\n",
                )
                await self._send(
                    connection,
                    new,
                    "Your new e-mail address",
                    f"Hello {customer.name},\n\nthis is now the e-mail address of your shop "
                    f"account (it was {old}).\n",
                )
        except IntegrityError:
            # Someone took the new address between our check and the update.
            raise ShopError(f"another account already uses {new}") from None

    async def delete_account(self, email: str) -> None:
        email = normal_email(email)
        async with self._begin() as connection:
            customer = await _customer_row(connection, email)
            if customer is None:
                raise ShopError(f"there is no account for {email}")
            numbers = select(shop_orders.c.number).where(shop_orders.c.customer_id == customer.id)
            addresses = {email} | set(
                await connection.scalars(
                    select(shop_orders.c.email).where(shop_orders.c.customer_id == customer.id)
                )
            )
            # The foreign keys cascade too, but only where the database enforces them
            # (SQLite needs a pragma that an engine not made by bot.db may lack).
            for table in (shop_items, shop_shipments, shop_refunds, shop_invoices):
                await connection.execute(delete(table).where(table.c.order_number.in_(numbers)))
            await connection.execute(
                delete(shop_orders).where(shop_orders.c.customer_id == customer.id)
            )
            await connection.execute(
                delete(shop_customers).where(shop_customers.c.id == customer.id)
            )
            await connection.execute(
                delete(shop_emails).where(shop_emails.c.to_address.in_(addresses))
            )

    # --- plumbing ---------------------------------------------------------------------------

    async def _send(self, connection: AsyncConnection, to: str, subject: str, body: str) -> None:
        await connection.execute(
            shop_emails.insert().values(
                to_address=to, subject=subject, body=body, created_at=self._clock()
            )
        )

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as connection:
                yield connection
        except OperationalError as error:
            raise ShopUnavailable("the shop's database is not available right now") from error

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.begin() as connection:
                yield connection
        except OperationalError as error:
            raise ShopUnavailable("the shop's database is not available right now") from error


# --- rules ----------------------------------------------------------------------------------


def _why_not_cancel(order: Order) -> str:
    number = order.number
    if order.status == "cancelled":
        return f"order {number} is already cancelled"
    if order.status == "shipped":
        return (
            f"order {number} has already shipped{_on(order.shipment and order.shipment.shipped_on)}"
            ", so it can no longer be cancelled; once it arrives it can be returned within "
            f"{RETURN_WINDOW_DAYS} days"
        )
    if order.status == "delivered":
        return (
            f"order {number} was already delivered{_on(order.delivered_on)}, so it can no "
            "longer be cancelled; a refund can be requested instead"
        )
    return f"order {number} can no longer be cancelled (it is {order.status})"


def _why_not_readdress(order: Order) -> str:
    number = order.number
    if order.status == "cancelled":
        return f"order {number} is cancelled, so it will not be delivered anywhere"
    if order.status == "shipped":
        return (
            f"order {number} has already shipped, so its delivery address can no longer be "
            "changed; the carrier may be able to redirect it with the tracking number"
        )
    if order.status == "delivered":
        return f"order {number} was already delivered{_on(order.delivered_on)}"
    return f"the address of order {number} can no longer be changed (it is {order.status})"


def _check_refundable(order: Order, today: date) -> None:
    number = order.number
    if order.status == "processing":
        raise ShopError(f"order {number} has not shipped yet; it can be cancelled instead")
    if order.status == "cancelled":
        raise ShopError(f"order {number} was cancelled, so there is nothing to refund")
    if order.status not in ("shipped", "delivered"):
        raise ShopError(f"order {number} cannot be refunded (it is {order.status})")
    for refund in order.refunds:
        if refund.status != "rejected":
            raise ShopError(
                f"a refund for order {number} was already requested on "
                f"{refund.requested_on.isoformat()} (it is {refund.status})"
            )
    delivered = order.delivered_on
    # A shipped order still on its way can be refunded: the window starts at delivery.
    if delivered is not None:
        window_end = delivered + timedelta(days=RETURN_WINDOW_DAYS)
        if today > window_end:
            raise ShopError(
                f"order {number} was delivered on {delivered.isoformat()}, more than "
                f"{RETURN_WINDOW_DAYS} days ago; the return window ended on "
                f"{window_end.isoformat()}"
            )


def _on(day: date | None) -> str:
    return f" on {day.isoformat()}" if day else ""


def _money(cents: int, currency: str) -> str:
    return f"{currency} {cents // 100}.{cents % 100:02d}"


# --- reading --------------------------------------------------------------------------------


async def _customer_row(connection: AsyncConnection, email: str):
    return (
        await connection.execute(select(shop_customers).where(shop_customers.c.email == email))
    ).first()


async def _existing_order(connection: AsyncConnection, number: str) -> Order:
    order = await _load_order(connection, number)
    if order is None:
        raise ShopError(f"there is no order {number}")
    return order


async def _load_order(connection: AsyncConnection, number: str) -> Order | None:
    row = (
        await connection.execute(
            select(shop_orders, shop_customers.c.name.label("customer_name"))
            .join(shop_customers, shop_customers.c.id == shop_orders.c.customer_id)
            .where(shop_orders.c.number == number)
        )
    ).first()
    if row is None:
        return None
    items = await connection.execute(
        select(shop_items).where(shop_items.c.order_number == number).order_by(shop_items.c.id)
    )
    shipment = (
        await connection.execute(
            select(shop_shipments).where(shop_shipments.c.order_number == number)
        )
    ).first()
    refunds = await connection.execute(
        select(shop_refunds)
        .where(shop_refunds.c.order_number == number)
        .order_by(shop_refunds.c.created_at, shop_refunds.c.id)
    )
    invoiced = await connection.scalar(
        select(func.count()).where(shop_invoices.c.order_number == number)
    )
    return Order(
        number=row.number,
        email=row.email,
        customer_name=row.customer_name,
        status=row.status,
        placed_on=row.placed_on,
        total_cents=row.total_cents,
        currency=row.currency,
        shipping_address=row.shipping_address,
        items=tuple(Item(i.name, i.quantity, i.price_cents) for i in items),
        shipment=(
            Shipment(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tracking_url=shipment.tracking_url,
                shipped_on=shipment.shipped_on,
                expected_on=shipment.expected_on,
                delivered_on=shipment.delivered_on,
            )
            if shipment is not None
            else None
        ),
        refunds=tuple(
            Refund(
                id=r.id,
                status=r.status,
                amount_cents=r.amount_cents,
                reason=r.reason,
                requested_on=r.requested_on,
                expected_on=r.expected_on,
            )
            for r in refunds
        ),
        invoice_url=invoice_url(row.number) if invoiced else None,
    )
