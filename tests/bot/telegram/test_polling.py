"""Polling mode (no webhook URL): getUpdates in a loop, offsets moved on only after storing."""

from __future__ import annotations

import pytest

from tests.bot.telegram.conftest import deliver, settled
from tests.telegram_server import text_update


@pytest.fixture
def telegram_mode() -> str:
    return "polling"


async def test_polling_fetches_answers_and_confirms_updates(tg_client, telegram, fake_rasa):
    fake_rasa.replies = [{"text": "answer"}]
    telegram.pending.append(text_update(7, 601, "hello", language_code="en"))
    telegram.pending.append(text_update(8, 601, "hello again", language_code="en"))
    sent = await settled(telegram, 3)
    assert [m["message"] for m in fake_rasa.received] == ["hello", "hello again"]
    assert sent[-1]["text"] == "answer"
    assert any(r["method"].lower() == "deletewebhook" for r in telegram.requests)
    offsets = [call.get("offset") for call in telegram.get_updates_calls]
    assert 9 in offsets, "the next poll confirms both updates"


async def test_the_webhook_route_is_off_in_polling_mode(tg_client):
    assert await deliver(tg_client, text_update(1, 602, "hi")) == 404
