"""The privacy notice, /privacy and /delete_my_data on the REST API and the web chat.

Telegram has its own tests (tests/bot/telegram/test_channel.py); the gateway handles the
commands for every channel alike (bot/privacy.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy
from sqlalchemy import update

from bot.app import create_app
from bot.db import create_engine, messages, utcnow
from tests.texts import first_contact, said
from tests.translation_server import FakeLibreTranslate, serve


@pytest.fixture
async def rest(aiohttp_client, settings):
    return await aiohttp_client(create_app(replace(settings, retention_days=30)))


async def say(client, sender: str, text: str, **extra) -> dict:
    response = await client.post("/api/v1/messages", json={"sender": sender, "text": text, **extra})
    assert response.status == 200, await response.text()
    return await response.json()


async def chat(client, text: str) -> dict:
    response = await client.post("/chat/messages", json={"text": text})
    assert response.status == 200, await response.text()
    return await response.json()


def texts(body: dict) -> list[str]:
    return [message["text"] for message in body["messages"]]


async def age_the_conversation(settings, hours: int) -> None:
    """As if the bot had last spoken `hours` ago (a new session starts after 60 minutes)."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(messages).values(created_at=utcnow() - timedelta(hours=hours))
            )
    finally:
        await engine.dispose()


async def test_the_first_reply_says_what_is_kept_for_how_long_in_the_customers_language(
    rest, settings
):
    first = await say(rest, "p1", "goedemiddag, ik heb een vraag over mijn bestelling")
    assert first["language"] == "nl"
    assert texts(first) == [
        first_contact("utter_disclosure", "nl", retention_days=30),
        "an answer",
    ]
    notice = texts(first)[0]
    assert "30 dagen" in notice and "/delete_my_data" in notice
    assert "vertaal" not in notice, "no translator is configured"
    assert texts(await say(rest, "p1", "en nog iets")) == ["an answer"]

    # A new session tells again that this is a bot; the notice was given once.
    await age_the_conversation(settings, hours=3)
    again = await say(rest, "p1", "hallo, daar ben ik weer")
    assert texts(again) == [said("utter_disclosure", "nl"), "an answer"]


@pytest.mark.parametrize(("language", "days"), [("he", "30 ימים"), ("fa", "30 روز")])
async def test_right_to_left_customers_read_the_notice_in_their_script(rest, language, days):
    body = await say(rest, f"rtl-{language}", "hi", language=language)
    assert texts(body)[0] == first_contact("utter_disclosure", language, retention_days=30)
    assert days in texts(body)[0]


async def test_with_a_translator_the_notice_says_messages_go_to_it_masked(
    aiohttp_client, aiohttp_server, settings
):
    url = await serve(aiohttp_server, FakeLibreTranslate())
    app = create_app(replace(settings, translator="libre", translator_url=url))
    client = await aiohttp_client(app)
    body = await say(client, "p2", "where is my order?", language="en")
    assert texts(body)[0] == first_contact("utter_disclosure", "en", translator=True)
    assert "translation service" in texts(body)[0]


async def test_rest_clients_get_privacy_and_delete_my_data_with_confirmation(
    rest, settings, fake_rasa
):
    await say(rest, "p3", "hallo, ik heb een vraag")
    asked_rasa = len(fake_rasa.received)
    assert texts(await say(rest, "p3", "/privacy")) == [
        said("utter_privacy", "nl", retention_days=30)
    ]
    ask = await say(rest, "p3", "/delete_my_data")
    assert texts(ask) == [said("utter_delete_confirm", "nl")]
    assert [b["payload"] for b in ask["messages"][0]["buttons"]] == [
        "/delete_my_data confirm",
        "/delete_my_data cancel",
    ]
    assert texts(await say(rest, "p3", "/delete_my_data cancel")) == [
        said("utter_delete_cancelled", "nl")
    ]
    history = await rest.get("/api/v1/conversations/p3/messages")
    assert history.status == 200, "cancelled: nothing erased"
    assert len(fake_rasa.received) == asked_rasa, "the commands never reach Rasa"

    tracker = sqlalchemy.create_engine(settings.tracker_url)
    with tracker.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE events (sender_id TEXT, timestamp REAL)"))
        connection.execute(sqlalchemy.text("INSERT INTO events VALUES ('rest-p3', 1.0)"))
    done = await say(rest, "p3", "/delete_my_data confirm")
    assert texts(done) == [said("utter_deleted", "nl")]
    history = await rest.get("/api/v1/conversations/p3/messages")
    assert history.status == 404, "nothing stored about the customer any more"
    with tracker.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT count(*) FROM events")).scalar() == 0
    tracker.dispose()

    # Writing again starts afresh, with the notice.
    fresh = await say(rest, "p3", "hallo", language="nl")
    assert texts(fresh)[0] == first_contact("utter_disclosure", "nl", retention_days=30)


async def test_the_web_chat_gets_the_notice_and_the_same_commands(rest):
    first = await chat(rest, "hello, I have a question about my order")
    assert texts(first)[0] == first_contact("utter_disclosure", "en", retention_days=30)
    assert texts(await chat(rest, "/privacy")) == [said("utter_privacy", "en", retention_days=30)]
    assert texts(await chat(rest, "/delete_my_data")) == [said("utter_delete_confirm", "en")]
    assert texts(await chat(rest, "/delete_my_data confirm")) == [said("utter_deleted", "en")]
    history = await (await rest.get("/chat/messages")).json()
    assert history["messages"] == []


async def test_privacy_commands_work_while_a_person_has_the_conversation(rest):
    await say(rest, "p4", "hello, I have a question about my order")
    assert (await say(rest, "p4", "/human"))["handoff"] is not None
    assert texts(await say(rest, "p4", "/privacy")) == [
        said("utter_privacy", "en", retention_days=30)
    ]
    assert texts(await say(rest, "p4", "/delete_my_data confirm")) == [said("utter_deleted", "en")]
    assert (await rest.get("/api/v1/conversations/p4/messages")).status == 404


async def test_machine_translated_answers_never_show_the_translator_the_customers_name(
    aiohttp_server, tmp_path
):
    from bot.app import create_translation
    from bot.catalogue import Catalogue
    from bot.db import create_schema, translation_memory
    from bot.render import Renderer
    from bot.settings import PROJECT_ROOT, Settings

    translator = FakeLibreTranslate()
    url = await serve(aiohttp_server, translator)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'tolk.db'}", translator="libre", translator_url=url
    )
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    try:
        renderer = Renderer(
            Catalogue.load(PROJECT_ROOT / "locales"), create_translation(settings, engine)
        )
        values = {"name": "Marijke Jansen", "order_number": "10001"}
        message = await renderer.render("utter_welcome_back", "es", values)
        async with engine.connect() as connection:
            stored = (await connection.execute(sqlalchemy.select(translation_memory))).all()
    finally:
        await engine.dispose()
    assert message["language"] == "es" and "Marijke Jansen" in message["text"]
    assert translator.received, "the answer was machine-translated"
    reached = " ".join(translator.received)
    assert "Marijke" not in reached and "10001" not in reached
    assert stored and not any("Marijke" in row.source_text + row.translated_text for row in stored)


async def test_privacy_as_the_very_first_message_still_says_it_is_a_bot(rest):
    assert texts(await say(rest, "p5", "/privacy")) == [
        said("utter_disclosure", "en"),
        said("utter_privacy", "en", retention_days=30),
    ]
    ask = await say(rest, "p6", "/delete_my_data", language="vi")
    assert texts(ask) == [
        first_contact("utter_disclosure", "vi", retention_days=30),
        said("utter_delete_confirm", "vi"),
    ]
