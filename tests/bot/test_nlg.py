"""POST /nlg as Rasa calls it: every response rendered in the conversation's language."""

import pytest

from bot.catalogue import Catalogue
from bot.settings import NATIVE_LANGUAGES, Settings


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
    response = await client.post("/nlg", json=nlg_body("utter_faq/payment_methods", language))
    assert response.status == 200
    body = await response.json()
    expected = Catalogue.load(Settings().locales_dir).get("utter_faq/payment_methods", language)
    assert body["text"] == expected[0].text
    assert "PayPal" in body["text"]


async def test_buttons_come_with_their_payloads(client):
    body = await (await client.post("/nlg", json=nlg_body("utter_csat_ask", "nl"))).json()
    assert [b["payload"] for b in body["buttons"]] == [f"/csat {n}" for n in range(1, 6)]
    assert all(b["title"] for b in body["buttons"])


async def test_placeholders_are_filled(client):
    body = await (await client.post("/nlg", json=nlg_body("utter_iamabot", "en"))).json()
    assert "support@example.com" in body["text"] and "{" not in body["text"]
    body = await (await client.post("/nlg", json=nlg_body("utter_change_language", "fa"))).json()
    assert "Nederlands" in body["text"] and "Tiếng Việt" in body["text"]


async def test_without_metadata_the_stored_conversation_language_is_used(client):
    await client.post("/api/v1/messages", json={"sender": "nlgfa", "text": "سلام، سفارشم کجاست؟"})
    body = await (await client.post("/nlg", json=nlg_body("utter_greet", sender="nlgfa"))).json()
    expected = Catalogue.load(Settings().locales_dir).get("utter_greet", "fa")[0].text
    assert body["text"] == expected


async def test_unknown_response_and_bad_body_are_json_errors(client):
    missing = await client.post("/nlg", json=nlg_body("utter_nope", "en"))
    assert missing.status == 404 and "utter_nope" in (await missing.json())["error"]
    bad = await client.post("/nlg", data=b"nope")
    assert bad.status == 400
