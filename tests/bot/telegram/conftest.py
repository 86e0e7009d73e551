"""The bot service with Telegram on: python-telegram-bot talks to a local Bot API server."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.app import create_app
from bot.channels.telegram.channel import TELEGRAM
from tests.gateway_fixtures import settled as settled_on
from tests.telegram_server import FakeTelegram, serve
from tests.translation_server import FakeLibreTranslate
from tests.translation_server import serve as serve_translator

SECRET = "s3cret-token_ok"
WEBHOOK = "https://shop.example/telegram/webhook"


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def telegram_mode() -> str:
    return "webhook"


@pytest.fixture
async def tg_client(aiohttp_client, aiohttp_server, settings, telegram, telegram_mode, monkeypatch):
    # python-telegram-bot 22 warns that retry_after becomes a timedelta; we opt in (the
    # service does the same in bot/cli.py).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    url = await serve(aiohttp_server, telegram)
    translator_url = await serve_translator(aiohttp_server, FakeLibreTranslate())
    configured = replace(
        settings,
        telegram_token=telegram.token,
        telegram_api_base_url=url,
        telegram_webhook_url=WEBHOOK if telegram_mode == "webhook" else None,
        telegram_secret_token=SECRET if telegram_mode == "webhook" else None,
        telegram_reorder_seconds=0.05,
        translator="libre",
        translator_url=translator_url,
        translator_timeout=2,
    )
    client = await aiohttp_client(create_app(configured))
    channel = client.app[TELEGRAM]
    await asyncio.wait_for(channel.ready.wait(), 10)
    return client


async def settled(telegram: FakeTelegram, sent: int, timeout: float = 5.0) -> list[dict]:
    """Wait until the fake has `sent` messages (handling happens after the 200)."""
    return await settled_on(telegram.sent, sent, timeout)


async def deliver(client, update: dict, secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = await client.post("/telegram/webhook", json=update, headers=headers)
    return response.status
