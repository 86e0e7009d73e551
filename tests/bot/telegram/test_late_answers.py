"""A Telegram message that found Rasa down is answered in the chat once Rasa is back: the
retry sweep (bot/retry.py) pushes the late answer the way agent replies are pushed."""

from __future__ import annotations

from tests.bot.telegram.conftest import deliver, settled
from tests.bot.test_retry import due_now
from tests.gateway_fixtures import retrier_of
from tests.telegram_server import text_update
from tests.texts import said


async def test_a_message_kept_while_rasa_was_down_reaches_the_chat_later(
    tg_client, telegram, fake_rasa
):
    fake_rasa.status = 500
    update = text_update(70, 570, "where is my parcel?", language_code="en")
    assert await deliver(tg_client, update) == 200
    told = await settled(telegram, 2)
    assert told[-1]["text"] == said("utter_service_unavailable", "en")
    before = len(told)

    fake_rasa.status = 200
    fake_rasa.replies = [{"text": "It left our warehouse yesterday."}]
    await due_now(tg_client)
    retrier = retrier_of(tg_client.app)
    assert await retrier.sweep() == 1
    sent = await settled(telegram, before + 1)
    assert sent[-1]["chat_id"] == 570
    assert sent[-1]["text"] == "It left our warehouse yesterday."
    await due_now(tg_client)
    assert await retrier.sweep() == 0
    assert len(telegram.sent) == before + 1  # answered once
