"""Conversation keys name their channel; an operator erases a customer by key."""

from __future__ import annotations

import pytest

from bot.erase import run_erase
from bot.senders import WrongChannel, check_key, conversation_key, rest_key
from bot.settings import Settings
from bot.store import Store


def test_a_rest_sender_that_looks_like_another_channel_stays_rest():
    assert rest_key("anna") == "rest-anna"
    assert rest_key("telegram-42") == "rest-telegram-42"
    assert rest_key("web-abc") == "rest-web-abc"
    assert conversation_key("telegram", "42") == "telegram-42"


def test_a_key_of_another_channel_is_refused():
    check_key("rest-telegram-42", "rest")
    with pytest.raises(WrongChannel):
        check_key("telegram-42", "rest")
    with pytest.raises(WrongChannel):
        check_key("rest-anna", "telegram")


async def test_the_store_refuses_a_message_under_another_channels_key(tmp_path):
    from bot.db import create_engine, create_schema

    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    try:
        with pytest.raises(WrongChannel):
            await Store(engine).receive(sender="telegram-42", channel="rest", text="hi")
    finally:
        await engine.dispose()


def test_erase_by_key_and_a_hint_for_a_bare_rest_sender(tmp_path, capsys):
    import asyncio

    from bot.db import database

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'tolk.db'}",
        tracker_url=f"sqlite:///{tmp_path / 'rasa-tracker.db'}",
    )

    async def store_one() -> None:
        async with database(settings.database_url) as engine:
            await Store(engine).receive(sender="rest-anna", channel="rest", text="hello")

    asyncio.run(store_one())
    assert run_erase(settings, "anna") == 0
    assert "rest-anna" in capsys.readouterr().out  # how to name her
    assert run_erase(settings, "rest-anna") == 0
    assert "erased 'rest-anna'" in capsys.readouterr().out
