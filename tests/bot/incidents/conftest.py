"""A bot service whose fake Rasa answers through the bot's /nlg with a scripted intent per
customer text (tests/bot/surveys/conftest.py), so that the intent is recorded on each
customer message as in production; a fake translator; a team of agents (the leads)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import create_app
from tests.bot.handoff.conftest import Team
from tests.bot.surveys.conftest import ScriptedRasa
from tests.translation_server import FakeLibreTranslate, serve

PAYMENTS = "faq/payment_methods"
SCRIPT = {
    "which payment methods do you accept?": (PAYMENTS, ["utter_faq/payment_methods"]),
    "welke betaalmethoden accepteren jullie?": (PAYMENTS, ["utter_faq/payment_methods"]),
    "با چه روش‌هایی می‌توانم پرداخت کنم؟": (PAYMENTS, ["utter_faq/payment_methods"]),
    "how long does shipping take?": ("faq/shipping_time", ["utter_faq/shipping_time"]),
    "hoe lang duurt de verzending?": ("faq/shipping_time", ["utter_faq/shipping_time"]),
    # A Spanish customer's words, as the English pivot brings them (tests/translation_server.py).
    "How long does shipping take?": ("faq/shipping_time", ["utter_faq/shipping_time"]),
    "hello": ("greet", ["utter_greet"]),
}
# What each customer types, and in which language.
ASKS = {
    "en": "which payment methods do you accept?",
    "nl": "welke betaalmethoden accepteren jullie?",
    "fa": "با چه روش‌هایی می‌توانم پرداخت کنم؟",
}


@pytest.fixture
def fake_rasa() -> ScriptedRasa:
    return ScriptedRasa(script=dict(SCRIPT))


@pytest.fixture
def translator() -> FakeLibreTranslate:
    return FakeLibreTranslate()


@pytest.fixture
async def bot(aiohttp_client, aiohttp_server, settings, fake_rasa, translator) -> Team:
    url = await serve(aiohttp_server, translator)
    settings = replace(
        settings,
        translator="libre",
        translator_url=url,
        translator_timeout=2,
        nps_sample=0.0,
        surge_count=3,
        surge_minutes=10,
    )
    client = await aiohttp_client(create_app(settings))
    fake_rasa.nlg_url = str(client.make_url("/nlg"))
    return Team(client, settings)
