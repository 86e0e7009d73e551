"""Customers in languages the NLU was not trained on, through the English pivot.

The real deep-translator LibreTranslate client talks to a LibreTranslate-compatible
server on loopback; a fake Rasa asks the bot's /nlg to render its answers, as Rasa does.
"""

from dataclasses import replace

import pytest

from bot.app import create_app
from bot.catalogue import fill
from tests.bot.test_retry import due_now
from tests.gateway_fixtures import retrier_of
from tests.texts import CATALOGUE, said
from tests.translation_server import FakeLibreTranslate, serve


def english(key: str) -> str:
    return said(key, "en")


@pytest.fixture
def translator() -> FakeLibreTranslate:
    return FakeLibreTranslate()


@pytest.fixture
async def pivot_client(aiohttp_client, aiohttp_server, settings, fake_rasa, translator):
    url = await serve(aiohttp_server, translator)
    app = create_app(
        replace(settings, translator="libre", translator_url=url, translator_timeout=2)
    )
    client = await aiohttp_client(app)
    fake_rasa.nlg_url = str(client.make_url("/nlg"))
    fake_rasa.responses = ["utter_faq/shipping_time"]
    return client


async def post(client, **body):
    response = await client.post("/api/v1/messages", json=body)
    assert response.status == 200
    return await response.json()


async def test_spanish_reaches_rasa_in_english_and_is_answered_in_spanish(pivot_client, fake_rasa):
    body = await post(pivot_client, sender="es1", text="Hola, ¿cuánto tarda el envío?")
    assert body["language"] == "es"
    assert fake_rasa.received[-1]["message"] == "Hello, how long does shipping take?"
    assert fake_rasa.received[-1]["metadata"]["language"] == "es"
    answer = body["messages"][-1]["text"]
    # The fake translator marks what it translated into Spanish; the note says it is MT.
    assert answer.startswith("[es] " + english("utter_faq/shipping_time"))
    assert answer.endswith("[es] " + english("utter_machine_translation_note"))


async def test_the_original_text_stays_in_the_transcript(pivot_client):
    await post(pivot_client, sender="de1", text="Wie lange dauert der Versand?")
    history = await (await pivot_client.get("/api/v1/conversations/de1/messages")).json()
    first = history["messages"][0]
    assert first["from"] == "customer"
    assert first["text"] == "Wie lange dauert der Versand?"
    assert first["language"] == "de"


async def test_no_personal_data_reaches_the_translator(pivot_client, fake_rasa, translator):
    text = "Hola, soy Lucía Pérez, mi correo es lucia.perez@example.es y mi pedido es 10001"
    await post(pivot_client, sender="es-pii", text=text, name="Lucía Pérez")
    sent = " ".join(translator.received)
    for secret in ("lucia.perez@example.es", "10001", "Lucía", "Pérez"):
        assert secret not in sent
    # ...but Rasa, which is ours, gets them back in the English text.
    assert "lucia.perez@example.es" in fake_rasa.received[-1]["message"]
    assert "10001" in fake_rasa.received[-1]["message"]


async def test_a_repeated_message_costs_no_translator_call(pivot_client, translator):
    await post(pivot_client, sender="es-a", text="¿Cuánto tarda el envío?")
    calls = translator.requests_count
    await post(pivot_client, sender="es-b", text="¿Cuánto tarda el envío?")
    assert translator.requests_count == calls


@pytest.mark.parametrize("mode", ["slow", "429", "500", "garbage"])
async def test_translator_trouble_keeps_the_message_and_answers_it_once_it_is_back(
    pivot_client, translator, mode
):
    translator.mode = mode
    translator.delay = 5
    body = await post(pivot_client, sender=f"es-{mode}", text="¿Cuánto tarda el envío?")
    # Not "I can't read Spanish": we can, in a moment. Said in English, which needs no
    # translator, and the message waits for the retry.
    assert body["messages"][-1]["text"] == english("utter_service_unavailable"), mode

    translator.mode, translator.delay = "ok", 0
    await due_now(pivot_client)
    assert await retrier_of(pivot_client.app).sweep() == 1
    history = await (await pivot_client.get(f"/api/v1/conversations/es-{mode}/messages")).json()
    last = history["messages"][-1]["text"]
    assert last.startswith("[es] " + english("utter_faq/shipping_time")), history


async def test_a_language_the_translator_refuses_gets_the_languages_we_speak(
    pivot_client, fake_rasa
):
    # Chinese: the translator answers 400 (not one of its languages). Unlike an outage, no
    # retry changes that: the customer hears which languages we read and is offered a person.
    body = await post(pivot_client, sender="zh-1", text="你好，请问运送需要多长时间？")
    assert body["language"] == "en" and fake_rasa.received == []
    last = body["messages"][-1]
    assert "English" in last["text"] and last["buttons"][0]["payload"] == "/request_human"
    await due_now(pivot_client)
    assert await retrier_of(pivot_client.app).sweep() == 0, "not kept for a retry"


async def test_offline_a_non_native_language_gets_english_with_the_supported_languages(
    client, fake_rasa
):
    body = await post(client, sender="es-off", text="Hola, ¿cuánto tarda el envío de mi pedido?")
    assert body["language"] == "en"
    assert fake_rasa.received == []
    last = body["messages"][-1]
    for name in ("English", "Nederlands", "עברית", "فارسی", "Tiếng Việt", "Español"):
        assert name in last["text"]
    assert last["buttons"][0]["payload"] == "/request_human"
    stored = await (await client.get("/api/v1/conversations/es-off/messages")).json()
    assert stored["messages"][0]["text"].startswith("Hola")


async def test_language_command_switches_and_confirms_in_the_new_language(client):
    await post(client, sender="cmd", text="hello, I have a question about my order")
    body = await post(client, sender="cmd", text="/language nl")
    assert body["language"] == "nl"
    assert body["messages"][0]["text"] == fill(
        CATALOGUE.get("utter_language_changed", "nl")[0].text, {"language": "Nederlands"}
    )
    follow = await post(client, sender="cmd", text="ok")
    assert follow["language"] == "nl"


async def test_language_command_without_translator_refuses_a_pivot_language(client):
    body = await post(client, sender="cmd2", text="/language es")
    assert body["language"] == "en"
    assert "Español" in body["messages"][-1]["text"]
    listing = await post(client, sender="cmd2", text="/language")
    assert "Tiếng Việt" in listing["messages"][-1]["text"]


async def test_an_action_can_switch_the_language(client, fake_rasa):
    fake_rasa.replies = [{"custom": {"set_language": "fa"}}]
    body = await post(client, sender="act", text="can we speak Persian please?")
    assert body["language"] == "fa"
    assert body["messages"][-1]["text"] == fill(
        CATALOGUE.get("utter_language_changed", "fa")[0].text, {"language": "فارسی"}
    )
