"""The shop and the verifier the account actions use, made on first use in the action
server's event loop (rasa-sdk imports every module at start: no I/O at import time).
Tests put their own in with `use`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.shop.model import Shop
from bot.shop.verification import Verifier


@dataclass
class Services:
    shop: Shop
    verifier: Verifier


_current: Services | None = None


def use(services: Services | None) -> None:
    global _current
    _current = services


async def services() -> Services:
    global _current
    if _current is None:
        import aiohttp

        from bot.db import create_engine, create_schema
        from bot.settings import Settings
        from bot.shop import create_shop, is_demo, seed_demo

        settings = Settings.from_env()
        engine = create_engine(settings.database_url)
        await create_schema(engine)
        if is_demo(settings):
            await seed_demo(engine)  # the bot seeds too; whoever starts first
        # A real shop's API needs an HTTP session; the demo shop is the database.
        session = None if is_demo(settings) else aiohttp.ClientSession()
        shop = create_shop(settings, engine, session)
        _current = Services(shop, Verifier(engine, shop))
    return _current
