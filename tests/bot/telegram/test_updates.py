"""Updates stored once, by update_id membership, and handled after a restart."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.app import create_app
from bot.channels.telegram.channel import TELEGRAM
from bot.channels.telegram.updates import UpdateLog, chat_of_sender, sender_for
from bot.db import create_engine, create_schema
from tests.bot.telegram.conftest import settled
from tests.telegram_server import serve, text_update


async def test_membership_not_the_highest_id_decides_what_is_new(settings):
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    log = UpdateLog(engine)
    assert await log.store(text_update(5, 1, "five"))
    assert await log.store(text_update(3, 1, "three")), "an older id that never came is new"
    assert await log.store(text_update(5, 1, "five")) is None
    assert [u.update_id for u in await log.pending(1)] == [3, 5]
    await log.done(3)
    assert [u.update_id for u in await log.pending(1)] == [5]
    await engine.dispose()


def test_senders_and_chats_map_both_ways():
    assert sender_for(-1001) == "telegram--1001"
    assert chat_of_sender("telegram--1001") == -1001
    assert chat_of_sender("web-abc") is None


async def test_an_update_stored_before_a_restart_is_handled_after_it(
    aiohttp_client, aiohttp_server, settings, telegram, fake_rasa, monkeypatch
):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    await UpdateLog(engine).store(text_update(77, 701, "are you there?", language_code="en"))
    await engine.dispose()

    url = await serve(aiohttp_server, telegram)
    client = await aiohttp_client(
        create_app(
            replace(
                settings,
                telegram_token=telegram.token,
                telegram_api_base_url=url,
                telegram_reorder_seconds=0.01,
            )
        )
    )
    await asyncio.wait_for(client.app[TELEGRAM].ready.wait(), 10)
    await settled(telegram, 2)
    assert [m["message"] for m in fake_rasa.received] == ["are you there?"]


async def test_an_unreadable_update_does_not_block_its_chat(tg_client, telegram, fake_rasa):
    from tests.bot.telegram.conftest import deliver

    broken = text_update(300, 801, "hello", language_code="en")
    broken["message"]["date"] = "not a date"
    assert await deliver(tg_client, broken) == 200
    assert (
        await deliver(tg_client, text_update(301, 801, "are you there?", language_code="en")) == 200
    )
    await settled(telegram, 2)
    assert fake_rasa.received[-1]["message"] == "are you there?"


async def test_a_failing_handler_does_not_block_its_chat(tg_client, telegram, fake_rasa):
    from tests.bot.telegram.conftest import deliver

    gateway = tg_client.app[TELEGRAM].gateway
    handle = gateway.handle
    calls = []

    async def fails_once(inbound):
        calls.append(inbound.text)
        if len(calls) == 1:
            raise RuntimeError("a bug in a handler")
        return await handle(inbound)

    gateway.handle = fails_once
    await deliver(tg_client, text_update(400, 802, "first", language_code="en"))
    await deliver(tg_client, text_update(401, 802, "second", language_code="en"))
    await settled(telegram, 2)
    assert calls == ["first", "second"], "the failed update is not retried over and over"
