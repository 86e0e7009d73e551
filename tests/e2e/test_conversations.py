"""Short conversations in every native language through the three real processes.

Starts `rasa run actions`, `rasa run` (the trained model) and `python -m bot serve` on
their own ports and talks to the bot over POST /api/v1/messages, as a REST client would.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import answer, health, post
from tests.texts import first_contact

pytestmark = pytest.mark.e2e

CONVERSATIONS = {
    "en": ("Hello! I have a question", "how long does shipping take?", "are you a bot?"),
    "nl": ("Hallo, ik heb een vraag", "hoe lang duurt de verzending?", "ben jij een robot?"),
    "he": ("שלום, יש לי שאלה", "כמה זמן לוקח המשלוח?", "אתה בוט?"),
    "fa": ("سلام، یه سوال داشتم", "ارسال چند روز طول میکشه؟", "تو رباتی؟"),
    "vi": ("Xin chào, cho mình hỏi chút", "giao hàng mất bao lâu vậy?", "bạn là robot à?"),
}


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_a_short_conversation_in_each_language(stack, language):
    greeting, faq, challenge = CONVERSATIONS[language]
    sender = f"e2e-{language}"

    first = post(stack.bot_url, {"sender": sender, "text": greeting})
    assert first["language"] == language
    texts = [m["text"] for m in first["messages"]]
    # The first reply: the bot says it is one, and what it keeps for how long.
    assert texts[0] == first_contact("utter_disclosure", language, translator=True)
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


def test_not_understood_twice_hands_over_to_a_person(stack):
    sender = "e2e-fallback"
    post(stack.bot_url, {"sender": sender, "text": "hello"})
    first = post(stack.bot_url, {"sender": sender, "text": "qwx zzkj vvbn plork"})
    assert first["messages"][0]["text"] == answer("utter_ask_rephrase", "en")
    second = post(stack.bot_url, {"sender": sender, "text": "blorf kwazzle snerp"})
    assert second["messages"][0]["text"] == answer("utter_handoff_not_understood", "en")
    assert second["handoff"]["status"] in ("queued", "assigned")


def test_health_is_ok_with_everything_up(stack):
    assert health(stack.bot_url, stack.admin_token) == (
        200,
        {"status": "ok", "checks": {"rasa": "ok", "actions": "ok", "database": "ok"}},
    )


def test_asking_for_another_language_switches_the_conversation(stack):
    sender = "e2e-switch"
    post(stack.bot_url, {"sender": sender, "text": "Hello, I have a question about shipping"})
    switched = post(stack.bot_url, {"sender": sender, "text": "can we speak Dutch please?"})
    assert switched["language"] == "nl"
    assert switched["messages"][-1]["text"] == answer("utter_language_changed", "nl").replace(
        "{language}", "Nederlands"
    )
    follow = post(stack.bot_url, {"sender": sender, "text": "ok"})
    assert follow["language"] == "nl"
