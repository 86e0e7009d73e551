"""The shop API's JSON shapes (docs/shop-api.md) to and from the model's dataclasses.

`*_from_json` raise ValueError (or KeyError, TypeError) on an answer that does not follow
the contract; HttpShop turns those into ShopUnavailable.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from actions.shop.model import Customer, Item, Order, Refund, Shipment


def order_to_json(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "email": order.email,
        "customer_name": order.customer_name,
        "status": order.status,
        "placed_on": order.placed_on.isoformat(),
        "total_cents": order.total_cents,
        "currency": order.currency,
        "shipping_address": order.shipping_address,
        "items": [
            {"name": i.name, "quantity": i.quantity, "price_cents": i.price_cents}
            for i in order.items
        ],
        "shipment": _shipment_to_json(order.shipment) if order.shipment else None,
        "refunds": [refund_to_json(r) for r in order.refunds],
        "invoice_url": order.invoice_url,
    }


def refund_to_json(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "status": refund.status,
        "amount_cents": refund.amount_cents,
        "reason": refund.reason,
        "requested_on": refund.requested_on.isoformat(),
        "expected_on": _day_json(refund.expected_on),
    }


def customer_to_json(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email,
        "name": customer.name,
        "order_numbers": list(customer.order_numbers),
    }


def order_from_json(data: dict[str, Any]) -> Order:
    shipment = data.get("shipment")
    return Order(
        number=_text(data["number"]),
        email=_text(data["email"]),
        customer_name=_text(data.get("customer_name") or ""),
        status=_text(data["status"]),
        placed_on=date.fromisoformat(data["placed_on"]),
        total_cents=_int(data["total_cents"]),
        currency=_text(data["currency"]),
        shipping_address=_text(data.get("shipping_address") or ""),
        items=tuple(
            Item(_text(i["name"]), _int(i["quantity"]), _int(i["price_cents"]))
            for i in data.get("items") or ()
        ),
        shipment=_shipment_from_json(shipment) if shipment else None,
        refunds=tuple(refund_from_json(r) for r in data.get("refunds") or ()),
        invoice_url=_optional_text(data.get("invoice_url")),
    )


def refund_from_json(data: dict[str, Any]) -> Refund:
    return Refund(
        id=_text(data["id"]),
        status=_text(data["status"]),
        amount_cents=_int(data["amount_cents"]),
        reason=_text(data.get("reason") or ""),
        requested_on=date.fromisoformat(data["requested_on"]),
        expected_on=_day(data.get("expected_on")),
    )


def customer_from_json(data: dict[str, Any]) -> Customer:
    return Customer(
        email=_text(data["email"]),
        name=_text(data.get("name") or ""),
        order_numbers=tuple(_text(n) for n in data.get("order_numbers") or ()),
    )


def _shipment_to_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "shipped_on": _day_json(shipment.shipped_on),
        "expected_on": _day_json(shipment.expected_on),
        "delivered_on": _day_json(shipment.delivered_on),
    }


def _shipment_from_json(data: dict[str, Any]) -> Shipment:
    return Shipment(
        carrier=_text(data["carrier"]),
        tracking_number=_text(data["tracking_number"]),
        tracking_url=_optional_text(data.get("tracking_url")),
        shipped_on=_day(data.get("shipped_on")),
        expected_on=_day(data.get("expected_on")),
        delivered_on=_day(data.get("delivered_on")),
    )


def _day_json(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _text(value: Any) -> str:
    # Order numbers may come as JSON numbers from some shops; anything else is not text.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
