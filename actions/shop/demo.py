"""The demo shop's data (listed in the README): a few customers and one order per situation
the bot handles. Dates are relative to the day of seeding so that the story stays true:
10001 is always on its way, 10003 always inside the return window, 10004 always outside.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from actions.shop.sql import SITE
from actions.shop.tables import (
    shop_customers,
    shop_invoices,
    shop_items,
    shop_orders,
    shop_refunds,
    shop_shipments,
    utcnow,
)

CUSTOMERS = {
    "alex@example.com": "Alex Morgan",
    "sam@example.com": "Sam Rivera",
    "kim@example.com": "Kim Nguyen",
    "noa@example.com": "Noa Levi",
}

ADDRESSES = {
    "alex@example.com": "Alex Morgan, Keizersgracht 100, 1015 CW Amsterdam, Netherlands",
    "sam@example.com": "Sam Rivera, 12 Baker Street, London NW1 6XE, United Kingdom",
    "kim@example.com": "Kim Nguyen, 25 Lý Thái Tổ, Hoàn Kiếm, Hà Nội, Việt Nam",
    "noa@example.com": "Noa Levi, Dizengoff Street 50, 6433222 Tel Aviv, Israel",
}


def _orders(today) -> list[dict]:
    """Day offsets from `today`; `invoice` orders have one (issued when the order was paid)."""

    def day(offset: int):
        return today + timedelta(days=offset)

    return [
        {
            "number": "10001",
            "email": "alex@example.com",
            "status": "shipped",
            "placed_on": day(-3),
            "items": [("Wireless headphones", 1, 7999), ("USB-C cable", 2, 999)],
            "shipment": ("PostNL", "3SDEMO10001NL", day(-1), day(2), None),
            "invoice": True,
        },
        {
            "number": "10002",
            "email": "sam@example.com",
            "status": "processing",
            "placed_on": day(0),
            "items": [("Running shoes", 1, 8950)],
            "invoice": False,
        },
        {
            "number": "10003",
            "email": "alex@example.com",
            "status": "delivered",
            "placed_on": day(-10),
            "items": [("Desk lamp", 1, 3495)],
            "shipment": ("PostNL", "3SDEMO10003NL", day(-8), day(-5), day(-5)),
            "invoice": True,
        },
        {
            "number": "10004",
            "email": "alex@example.com",
            "status": "delivered",
            "placed_on": day(-66),
            "items": [("Coffee grinder", 1, 5900)],
            "shipment": ("PostNL", "3SDEMO10004NL", day(-64), day(-61), day(-60)),
            "invoice": True,
        },
        {
            "number": "10005",
            "email": "sam@example.com",
            "status": "delivered",
            "placed_on": day(-20),
            "items": [("Ceramic mug set", 1, 2400)],
            "shipment": ("Royal Mail", "RM000010005GB", day(-17), day(-14), day(-14)),
            "refund": ("approved", "The mugs arrived broken.", day(-7), day(3)),
            "invoice": True,
        },
        {
            "number": "10006",
            "email": "kim@example.com",
            "status": "cancelled",
            "placed_on": day(-20),
            "items": [("Phone case", 1, 1499)],
            "invoice": False,
        },
        {
            "number": "10007",
            "email": "noa@example.com",
            "status": "shipped",
            "placed_on": day(-6),
            "items": [("Travel backpack", 1, 6450)],
            "shipment": ("DHL Express", "JD0146000010007", day(-4), day(4), None),
            "invoice": True,
        },
    ]


async def seed_demo(engine: AsyncEngine, clock: Callable[[], datetime] = utcnow) -> bool:
    """Fill the empty demo shop; True if it seeded, False if it had customers already.

    Safe to call at every start and from several processes at once: one transaction, and a
    process that loses the race to another one's seeding gets False.
    """
    now = clock()
    today = now.date()
    try:
        async with engine.begin() as connection:
            if await connection.scalar(select(func.count()).select_from(shop_customers)):
                return False
            ids = {}
            for email, name in CUSTOMERS.items():
                result = await connection.execute(
                    shop_customers.insert().values(email=email, name=name, created_at=now)
                )
                ids[email] = result.inserted_primary_key[0]
            for order in _orders(today):
                await _insert_order(connection, order, ids, now)
    except IntegrityError:
        return False
    return True


async def _insert_order(connection, order: dict, ids: dict, now: datetime) -> None:
    number = order["number"]
    await connection.execute(
        shop_orders.insert().values(
            number=number,
            customer_id=ids[order["email"]],
            email=order["email"],
            status=order["status"],
            placed_on=order["placed_on"],
            total_cents=sum(quantity * price for _, quantity, price in order["items"]),
            currency="EUR",
            shipping_address=ADDRESSES[order["email"]],
            created_at=now,
            updated_at=now,
        )
    )
    for name, quantity, price in order["items"]:
        await connection.execute(
            shop_items.insert().values(
                order_number=number, name=name, quantity=quantity, price_cents=price
            )
        )
    if "shipment" in order:
        carrier, tracking, shipped, expected, delivered = order["shipment"]
        await connection.execute(
            shop_shipments.insert().values(
                order_number=number,
                carrier=carrier,
                tracking_number=tracking,
                tracking_url=f"{SITE}/track/{tracking}",
                shipped_on=shipped,
                expected_on=expected,
                delivered_on=delivered,
            )
        )
    if "refund" in order:
        status, reason, requested, expected = order["refund"]
        await connection.execute(
            shop_refunds.insert().values(
                id=f"RF-{number}-1",
                order_number=number,
                status=status,
                amount_cents=sum(q * p for _, q, p in order["items"]),
                reason=reason,
                requested_on=requested,
                expected_on=expected,
                created_at=now,
            )
        )
    if order["invoice"]:
        await connection.execute(
            shop_invoices.insert().values(
                order_number=number, number=f"INV-{number}", issued_on=order["placed_on"]
            )
        )
