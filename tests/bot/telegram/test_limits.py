"""Rate limits for Telegram: per chat, never per address (Telegram posts every chat's
updates from a few addresses of its own), and never by refusing an update (Telegram would
retry and finally drop it): a chat over its rate waits, its updates stored meanwhile."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bot.ratelimit import Rate
from tests.bot.telegram.conftest import deliver
from tests.telegram_server import text_update


@pytest.fixture
def settings(settings):
    # 2 messages at once per chat, then 2 a second; one request per minute per address.
    return replace(settings, rate_per_sender=Rate(2, 1), rate_per_address=Rate(1, 60))


async def handled(fake_rasa, count: int, timeout: float = 10.0) -> float:
    start = time.monotonic()
    while len(fake_rasa.received) < count:
        assert time.monotonic() - start < timeout, f"only {len(fake_rasa.received)} handled"
        await asyncio.sleep(0.01)
    return time.monotonic()


async def test_a_flooding_chat_is_paced_and_loses_nothing(tg_client, telegram, fake_rasa):
    start = time.monotonic()
    for n in range(6):
        update = text_update(100 + n, 701, f"message {n}", language_code="en")
        assert await deliver(tg_client, update) == 200, "Telegram is never refused"
    await asyncio.sleep(0.25)
    assert len(fake_rasa.received) <= 3, "beyond the burst, updates wait their turn"

    # Another chat is not held up by the flood (nor by the per-address limit).
    await deliver(tg_client, text_update(200, 702, "hello", language_code="en"))
    other_start = time.monotonic()
    while not any(m["sender"].endswith("702") for m in fake_rasa.received):
        assert time.monotonic() - other_start < 0.5, "chat 702 waited for chat 701"
        await asyncio.sleep(0.01)

    done = await handled(fake_rasa, 7)
    assert done - start >= 1.4, "6 messages at 2 at once then 2/s take 2 s"
    texts = [m["message"] for m in fake_rasa.received if m["sender"].endswith("701")]
    assert texts == [f"message {n}" for n in range(6)], "all of them, in order"
