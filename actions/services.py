"""What the actions use, made once per action server: its settings (read at start by
scripts/actions_server.py with `configure`), and the shop and the verifier, made on first
use in the server's event loop (rasa-sdk imports every module at start: no I/O at import
time). Tests put their own in with `use`."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from actions.database import create_engine, create_schema
from actions.settings import ActionSettings
from actions.shop import create_shop, seed_demo
from actions.shop.model import Shop
from actions.shop.verification import Verifier


@dataclass
class Services:
    shop: Shop
    verifier: Verifier


_settings: ActionSettings | None = None
_current: Services | None = None


def configure(settings: ActionSettings | None) -> None:
    """The settings every action uses, read once by whoever starts the server."""
    global _settings
    _settings = settings


def settings() -> ActionSettings:
    """The configured settings; read from the environment once when nobody configured
    them (`rasa run actions` started by hand)."""
    global _settings
    if _settings is None:
        _settings = ActionSettings.from_env()
    return _settings


def use(services: Services | None) -> None:
    global _current
    _current = services


async def services() -> Services:
    global _current
    if _current is None:
        current = settings()
        engine = create_engine(current.database_url)
        await create_schema(engine)
        if current.demo_shop:
            await seed_demo(engine)  # only into an empty shop
        # A real shop's API needs an HTTP session; the demo shop is the database.
        session = None if current.demo_shop else aiohttp.ClientSession()
        shop = create_shop(current, engine, session)
        _current = Services(shop, Verifier(engine, shop))
    return _current
