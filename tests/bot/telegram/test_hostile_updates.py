"""Updates of the wrong shape (found by tests/fuzz): stored and skipped, or refused; no 500."""

from __future__ import annotations

import pytest

from tests.bot.telegram.conftest import deliver, settled
from tests.telegram_server import text_update


@pytest.mark.parametrize("update_id", [2**63, 2**64, -(2**63) - 1, True, 1.5, "7"])
async def test_an_update_id_no_database_can_hold_is_a_400(tg_client, update_id):
    update = text_update(1, 4242, "hello")
    update["update_id"] = update_id
    assert await deliver(tg_client, update) == 400


@pytest.mark.parametrize("chat", [{"id": {"a": 1}}, {"id": [1]}, {"id": 2**70}, [], "chat"])
async def test_a_chat_of_the_wrong_shape_is_accepted_and_does_not_block_others(
    tg_client, telegram, chat
):
    odd = text_update(50, 4343, "hello")
    odd["message"]["chat"] = chat
    assert await deliver(tg_client, odd) == 200
    assert await deliver(tg_client, text_update(51, 4444, "hello there")) == 200
    sent = await settled(telegram, 2)  # the disclosure, the answer
    assert {message["chat_id"] for message in sent} == {4444}
