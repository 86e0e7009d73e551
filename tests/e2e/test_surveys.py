"""Surveys through the three real processes: the intent and the kind of answer come from
Rasa's real /nlg calls (bot/outcomes.py), the question in the customer's language."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import post
from tests.texts import said

pytestmark = pytest.mark.e2e


def texts(body: dict) -> list[str]:
    return [m["text"] for m in body["messages"]]


@pytest.mark.parametrize(
    ("language", "faq", "thanks", "rating"),
    [
        ("en", "how long does shipping take?", "thank you!", "five"),
        ("nl", "hoe lang duurt de verzending?", "dank je wel!", "vijf"),
        ("fa", "ارسال چند روز طول میکشه؟", "ممنون", "۵"),
    ],
)
def test_csat_after_a_bot_only_answer_when_the_customer_thanks(
    stack, language, faq, thanks, rating
):
    sender = f"survey-{language}-{uuid.uuid4().hex[:6]}"
    answered = post(stack.bot_url, {"sender": sender, "text": faq})
    assert texts(answered)[-1] == said("utter_faq/shipping_time", language)
    closing = post(stack.bot_url, {"sender": sender, "text": thanks})
    assert texts(closing) == [
        said("utter_you_are_welcome", language),
        said("utter_csat_ask", language),
    ]
    rated = post(stack.bot_url, {"sender": sender, "text": rating})
    assert texts(rated) == [said("utter_csat_thanks", language)]


def test_a_question_instead_of_a_rating_is_answered_by_the_bot(stack):
    sender = f"survey-drop-{uuid.uuid4().hex[:6]}"
    post(stack.bot_url, {"sender": sender, "text": "how long does shipping take?"})
    post(stack.bot_url, {"sender": sender, "text": "thanks"})
    asked = post(stack.bot_url, {"sender": sender, "text": "what is your return policy?"})
    assert texts(asked) == [said("utter_faq/return_policy", "en")]
