"""A bot service whose fake Rasa answers like the real one with an NLG server: for each
customer text a scripted intent and responses, rendered through the bot's /nlg with a
tracker that carries the intent and the gateway's metadata (so bot/outcomes.py records
them as it does in production)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from aiohttp import ClientSession, web

from bot.app import create_app
from tests.bot.handoff.conftest import Team
from tests.gateway_fixtures import NLG_HEADERS, FakeRasa
from tests.translation_server import FakeLibreTranslate, serve


@dataclass
class ScriptedRasa(FakeRasa):
    """text -> (intent, response names); "faq/x" intents come as Rasa's retrieval intents."""

    script: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        not_understood = ("nlu_fallback", ["utter_ask_rephrase"])
        intent, responses = self.script.get(body["message"], not_understood)
        latest = {
            "text": body["message"],
            "intent": {"name": intent.split("/")[0], "confidence": 0.93},
            "metadata": body["metadata"],
        }
        if "/" in intent:
            latest["response_selector"] = {
                "faq": {"response": {"intent_response_key": intent, "confidence": 0.9}}
            }
        tracker = {"sender_id": body["sender"], "slots": {}, "latest_message": latest}
        rendered = []
        async with ClientSession() as session:
            for name in responses:
                payload = {"response": name, "arguments": {}, "tracker": tracker, "channel": {}}
                async with session.post(self.nlg_url, json=payload, headers=NLG_HEADERS) as answer:
                    rendered.append(await answer.json())
        return web.json_response(rendered)


SCRIPT = {
    "hello": ("greet", ["utter_greet"]),
    "how long does shipping take?": ("faq/shipping_time", ["utter_faq/shipping_time"]),
    "hoe lang duurt de verzending?": ("faq/shipping_time", ["utter_faq/shipping_time"]),
    "what is your return policy?": ("faq/return_policy", ["utter_faq/return_policy"]),
    "thanks": ("thank", ["utter_you_are_welcome"]),
    "dank je wel": ("thank", ["utter_you_are_welcome"]),
    "bye": ("goodbye", ["utter_goodbye"]),
    "blorp": ("nlu_fallback", ["utter_ask_rephrase"]),
    # The last form answer of track_order: the action's result.
    "alex@example.com": ("inform", ["utter_order_status_shipped"]),
}


@pytest.fixture
def fake_rasa() -> ScriptedRasa:
    return ScriptedRasa(script=dict(SCRIPT))


@pytest.fixture
def translator() -> FakeLibreTranslate:
    return FakeLibreTranslate()


@pytest.fixture
def nps_sample() -> float:
    return 0.0


@pytest.fixture
async def bot(aiohttp_client, aiohttp_server, settings, fake_rasa, translator, nps_sample) -> Team:
    url = await serve(aiohttp_server, translator)
    settings = replace(
        settings,
        translator="libre",
        translator_url=url,
        translator_timeout=2,
        nps_sample=nps_sample,
    )
    client = await aiohttp_client(create_app(settings))
    fake_rasa.nlg_url = str(client.make_url("/nlg"))
    return Team(client, settings)
