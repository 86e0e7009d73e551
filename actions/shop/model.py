"""What the bot knows about the shop: the data it may show a verified customer, and the
operations it may ask the shop to do. Backends: `sql.py` (the seeded demo shop, default)
and `http.py` (a real shop's API; its JSON contract is in docs/shop-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


class ShopError(RuntimeError):
    """The shop could not be reached or refused the operation; the message says why."""


@dataclass(frozen=True)
class Item:
    name: str
    quantity: int
    price_cents: int


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shipped_on: date | None
    expected_on: date | None
    delivered_on: date | None


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # requested | approved | paid | rejected
    amount_cents: int
    reason: str
    requested_on: date
    expected_on: date | None


@dataclass(frozen=True)
class Order:
    number: str
    email: str
    customer_name: str
    status: str  # processing | shipped | delivered | cancelled
    placed_on: date
    total_cents: int
    currency: str
    shipping_address: str
    items: tuple[Item, ...] = ()
    shipment: Shipment | None = None
    refunds: tuple[Refund, ...] = ()
    invoice_url: str | None = None

    @property
    def shipped(self) -> bool:
        return self.status in ("shipped", "delivered")

    @property
    def delivered_on(self) -> date | None:
        return self.shipment.delivered_on if self.shipment else None


@dataclass(frozen=True)
class Customer:
    email: str
    name: str
    order_numbers: tuple[str, ...] = field(default_factory=tuple)


class Shop(Protocol):
    """Every backend offers this. Lookups return None when nothing matches; operations
    raise ShopError when the shop refuses or cannot be reached."""

    async def order(self, number: str) -> Order | None: ...

    async def customer(self, email: str) -> Customer | None: ...

    async def cancel_order(self, number: str) -> Order: ...

    async def change_address(self, number: str, address: str) -> Order: ...

    async def request_refund(self, number: str, reason: str) -> Refund: ...

    async def send_password_reset(self, email: str) -> None:
        """Sends a reset link when the address has an account; silently nothing otherwise."""

    async def update_email(self, old: str, new: str) -> None:
        """Changes the address and sends a confirmation to both the old and the new one."""

    async def delete_account(self, email: str) -> None: ...
