"""POST /nlg as Rasa calls it: every response rendered in the conversation's language."""

from dataclasses import replace

import pytest

from bot.app import create_app
from bot.catalogue import Catalogue
from bot.settings import NATIVE_LANGUAGES, Settings
from tests.gateway_fixtures import NLG_HEADERS, NLG_SECRET


def nlg_body(response: str, language: str | None = None, sender: str = "s", slots=None) -> dict:
    metadata = {"language": language} if language else {}
    return {
        "response": response,
        "arguments": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {"text": "x", "metadata": metadata},
            "events": [],
        },
        "channel": {"name": "rest"},
    }


@pytest.mark.parametrize("language", NATIVE_LANGUAGES)
async def test_faq_answer_is_rendered_in_the_metadata_language(client, language):
    response = await client.post(
        "/nlg", headers=NLG_HEADERS, json=nlg_body("utter_faq/payment_methods", language)
    )
    assert response.status == 200
    body = await response.json()
    expected = Catalogue.load(Settings().locales_dir).get("utter_faq/payment_methods", language)
    assert body["text"] == expected[0].text
    assert "PayPal" in body["text"]


async def test_buttons_come_with_their_payloads(client):
    body = await (
        await client.post("/nlg", headers=NLG_HEADERS, json=nlg_body("utter_csat_ask", "nl"))
    ).json()
    assert [b["payload"] for b in body["buttons"]] == [
        *(f"/csat {n}" for n in range(1, 6)),
        "/survey skip",
    ]
    assert all(b["title"] for b in body["buttons"])


async def test_placeholders_are_filled(client):
    body = await (
        await client.post("/nlg", headers=NLG_HEADERS, json=nlg_body("utter_iamabot", "en"))
    ).json()
    assert "support@example.com" in body["text"] and "{" not in body["text"]
    body = await (
        await client.post("/nlg", headers=NLG_HEADERS, json=nlg_body("utter_change_language", "fa"))
    ).json()
    assert "Nederlands" in body["text"] and "Tiếng Việt" in body["text"]


async def test_without_metadata_the_stored_conversation_language_is_used(client):
    await client.post("/api/v1/messages", json={"sender": "nlgfa", "text": "سلام، سفارشم کجاست؟"})
    # Rasa's sender_id is the conversation key, channel first (bot/senders.py).
    body = await (
        await client.post(
            "/nlg",
            headers=NLG_HEADERS,
            json=nlg_body("utter_greet", sender="rest-nlgfa"),
        )
    ).json()
    expected = Catalogue.load(Settings().locales_dir).get("utter_greet", "fa")[0].text
    assert body["text"] == expected


async def test_unknown_response_and_bad_body_are_json_errors(client):
    missing = await client.post("/nlg", headers=NLG_HEADERS, json=nlg_body("utter_nope", "en"))
    assert missing.status == 404 and "utter_nope" in (await missing.json())["error"]
    json_type = {**NLG_HEADERS, "Content-Type": "application/json"}
    bad = await client.post("/nlg", headers=json_type, data=b"nope")
    assert bad.status == 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret-of-the-same-size!"},
        {"Authorization": NLG_SECRET},
        {"Authorization": f"Basic {NLG_SECRET}"},
        {"Authorization": f"Bearer {NLG_SECRET}x"},
    ],
    ids=["none", "wrong", "no-scheme", "basic", "longer"],
)
async def test_only_rasa_with_the_secret_is_answered(client, headers):
    # Before: anyone on the network could ask /nlg to render with a tracker of their own.
    response = await client.post("/nlg", json=nlg_body("utter_greet", "en"), headers=headers)
    assert response.status == 401
    assert "TOLK_NLG_SECRET" in (await response.json())["error"]


async def test_without_a_configured_secret_nlg_refuses_everyone(aiohttp_client, settings):
    client = await aiohttp_client(create_app(replace(settings, nlg_secret=None)))
    response = await client.post("/nlg", json=nlg_body("utter_greet", "en"), headers=NLG_HEADERS)
    assert response.status == 401


async def test_a_long_session_tracker_is_rendered(client):
    """Rasa sends the whole session with every response: 40 turns of 4,000-character
    messages are about 1 MB, far above the customer routes' 64 KiB limit."""
    body = nlg_body("utter_iamabot", "en")
    body["tracker"]["events"] = [
        {"event": "user", "text": "ä" * 4000, "parse_data": {"text": "ä" * 4000}} for _ in range(40)
    ]
    response = await client.post("/nlg", headers=NLG_HEADERS, json=body)
    assert response.status == 200, await response.text()
    assert "support@example.com" in (await response.json())["text"]


async def test_a_tracker_over_the_nlg_limit_is_refused(client, monkeypatch):
    monkeypatch.setattr("bot.nlg.MAX_NLG_BODY", 100_000)
    body = nlg_body("utter_iamabot", "en")
    body["tracker"]["events"] = [{"event": "user", "text": "x" * 4000} for _ in range(40)]
    response = await client.post("/nlg", headers=NLG_HEADERS, json=body)
    assert response.status == 413
    assert "error" in await response.json()
