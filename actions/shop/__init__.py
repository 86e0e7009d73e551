"""The shop the bot answers about: `create_shop` picks the backend from the settings.

- TOLK_SHOP_URL unset: `SqlShop`, the demo shop in the bot's own database (fill it with
  `seed_demo` at start; it does nothing when the shop has customers already).
- TOLK_SHOP_URL set: `HttpShop`, a real shop speaking docs/shop-api.md, with TOLK_SHOP_KEY
  as its Bearer token.
"""

from __future__ import annotations

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from actions.settings import ActionSettings
from actions.shop.demo import seed_demo
from actions.shop.errors import ShopUnavailable
from actions.shop.http import HttpShop
from actions.shop.model import Customer, Item, Order, Refund, Shipment, Shop, ShopError
from actions.shop.sql import RETURN_WINDOW_DAYS, SentEmail, SqlShop

__all__ = [
    "RETURN_WINDOW_DAYS",
    "Customer",
    "HttpShop",
    "Item",
    "Order",
    "Refund",
    "SentEmail",
    "Shipment",
    "Shop",
    "ShopError",
    "ShopUnavailable",
    "SqlShop",
    "create_shop",
    "seed_demo",
]


def create_shop(
    settings: ActionSettings, engine: AsyncEngine, session: aiohttp.ClientSession | None
) -> Shop:
    if settings.demo_shop:
        return SqlShop(engine)
    return HttpShop(session, settings.shop_url or "", api_key=settings.shop_key)
