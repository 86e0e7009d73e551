"""Short conversations in every native language through the three real processes.

Starts `rasa run actions`, `rasa run` (the trained model) and `python -m bot serve` on
their own ports and talks to the bot over POST /api/v1/messages, as a REST client would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.catalogue import Catalogue, fill
from bot.settings import PROJECT_ROOT
from scripts.stack import MODEL, Ports, Stack

pytestmark = pytest.mark.e2e

CATALOGUE = Catalogue.load(PROJECT_ROOT / "locales")
VARIABLES = {"support_email": "support@example.com"}

CONVERSATIONS = {
    "en": ("Hello! I have a question", "how long does shipping take?", "are you a bot?"),
    "nl": ("Hallo, ik heb een vraag", "hoe lang duurt de verzending?", "ben jij een robot?"),
    "he": ("שלום, יש לי שאלה", "כמה זמן לוקח המשלוח?", "אתה בוט?"),
    "fa": ("سلام، یه سوال داشتم", "ارسال چند روز طول میکشه؟", "تو رباتی؟"),
    "vi": ("Xin chào, cho mình hỏi chút", "giao hàng mất bao lâu vậy?", "bạn là robot à?"),
}


def answer(key: str, language: str) -> str:
    return fill(CATALOGUE.get(key, language)[0].text, VARIABLES)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    stack = Stack(
        Ports(rasa=15005, actions=15055, bot=18080), Path(tmp_path_factory.mktemp("stack"))
    )
    try:
        stack.start(timeout=300)
    except RuntimeError:
        stack.stop()
        raise
    yield stack
    stack.stop()


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_a_short_conversation_in_each_language(stack, language):
    greeting, faq, challenge = CONVERSATIONS[language]
    sender = f"e2e-{language}"

    first = post(stack.bot_url, {"sender": sender, "text": greeting})
    assert first["language"] == language
    texts = [m["text"] for m in first["messages"]]
    assert texts[0] == answer("utter_disclosure", language)
    assert texts[1] == answer("utter_greet", language)

    second = post(stack.bot_url, {"sender": sender, "text": faq})
    assert second["language"] == language
    assert [m["text"] for m in second["messages"]] == [answer("utter_faq/shipping_time", language)]

    third = post(stack.bot_url, {"sender": sender, "text": challenge})
    assert [m["text"] for m in third["messages"]] == [answer("utter_iamabot", language)]


def test_dutch_conversation_stays_dutch_through_ok_thanks_and_emoji(stack):
    sender = "e2e-nl-sticky"
    post(stack.bot_url, {"sender": sender, "text": "Goedemorgen, waar kan ik retourneren?"})
    for text in ("ok", "bedankt!", "👍"):
        reply = post(stack.bot_url, {"sender": sender, "text": text})
        assert reply["language"] == "nl", text
        assert reply["messages"], text
    thanks = post(stack.bot_url, {"sender": sender, "text": "dank je wel!"})
    assert thanks["messages"][0]["text"] == answer("utter_you_are_welcome", "nl")


def test_not_understood_twice_offers_a_person(stack):
    sender = "e2e-fallback"
    post(stack.bot_url, {"sender": sender, "text": "hello"})
    first = post(stack.bot_url, {"sender": sender, "text": "qwx zzkj vvbn plork"})
    assert first["messages"][0]["text"] == answer("utter_ask_rephrase", "en")
    second = post(stack.bot_url, {"sender": sender, "text": "blorf kwazzle snerp"})
    offer = second["messages"][0]
    assert offer["text"] == answer("utter_offer_human", "en")
    assert [b["payload"] for b in offer["buttons"]] == ["/request_human", "/deny"]
    human = post(stack.bot_url, {"sender": sender, "text": "/request_human"})
    assert human["messages"][0]["text"] == answer("utter_human_unavailable", "en")


def test_health_is_ok_with_everything_up(stack):
    assert health(stack.bot_url) == (
        200,
        {"status": "ok", "checks": {"rasa": "ok", "actions": "ok", "database": "ok"}},
    )


def test_action_server_down_is_reported_and_the_customer_hears_so(stack):
    stack.stop("actions")
    status, body = health(stack.bot_url)
    assert status == 503 and body["down"] == ["actions"]
    reply = post(stack.bot_url, {"sender": "e2e-noactions", "text": "zzxq vrrk plimf"})
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "en")


def test_rasa_down_apologises_in_language_and_keeps_the_message(stack):
    stack.stop("rasa")
    status, body = health(stack.bot_url)
    assert status == 503 and "rasa" in body["down"]
    reply = post(stack.bot_url, {"sender": "e2e-fa-down", "text": "سلام، سفارش من کجاست؟"})
    assert reply["language"] == "fa"
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "fa")
    with urllib.request.urlopen(
        f"{stack.bot_url}/api/v1/conversations/e2e-fa-down/messages", timeout=10
    ) as response:
        stored = json.loads(response.read())["messages"]
    assert stored[0] == {**stored[0], "from": "customer", "text": "سلام، سفارش من کجاست؟"}
