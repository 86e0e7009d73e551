"""`GET /api/v1/agent/unanswered` and `POST /api/v1/agent/unanswered/drafts`: agents only,
the seeded week's groups, input checked, drafts kept in the review file."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import create_app
from bot.db import create_engine, create_schema, utcnow
from bot.handoff.agents import AgentStore
from bot.unanswered.drafts import read_drafts
from tests.bot.unanswered.seed import seed
from tests.fuzz.contract import Contract

ROUTE = "/api/v1/agent/unanswered"
DRAFTS = "/api/v1/agent/unanswered/drafts"


@pytest.fixture
async def agent_client(aiohttp_client, settings):
    """The service on a database with the seeded week (up to now) and an agent, Daan."""
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    await seed(engine, utcnow())
    new = await AgentStore(engine).add("Daan", ("nl", "en"), password="a long password")
    await engine.dispose()
    client = await aiohttp_client(create_app(settings))
    client.auth = {"Authorization": f"Bearer {new.token}"}
    return client


async def test_agents_only(agent_client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        listed = await agent_client.get(ROUTE, headers=headers)
        assert listed.status == 401
        assert "agent token" in (await listed.json())["error"]
        drafted = await agent_client.post(
            DRAFTS, json={"text": "hi", "language": "en", "intent": "greet"}, headers=headers
        )
        assert drafted.status == 401


async def test_the_groups_of_the_week(agent_client):
    response = await agent_client.get(ROUTE, headers=agent_client.auth)
    assert response.status == 200
    body = await response.json()
    assert (body["messages"], body["truncated"], body["max_messages"]) == (12, False, 5000)
    assert body["groups_total"] == 7
    summary = [(g["language"], g["count"], g["representative"]) for g in body["groups"]]
    assert summary == [
        ("de", 1, "Wo ist mein Paket?"),
        ("en", 3, "Where is my parcel?"),
        ("en", 2, "Can I pay with crypto?"),
        ("en", 1, "I want a person"),
        ("fa", 2, "سفارش من کجاست"),
        ("fa", 1, "مي\u200cخواهم سفارش را لغو كنم"),
        ("he", 2, "איפה החבילה שלי"),
    ]
    parcel = body["groups"][1]
    assert parcel["why"] == {"handoff_after_fallback": 0, "fallback": 2, "low_confidence": 1}
    assert parcel["intents"] == [{"intent": "faq/shipping_time", "count": 1}]
    assert parcel["channels"] == ["rest", "web"]
    assert [(e["seq"], e["text"], e["why"]) for e in parcel["examples"]] == [
        (1, "Where is my parcel?", "fallback"),
        (3, "wheres my parcel??", "low_confidence"),
    ]
    german = body["groups"][0]["examples"][0]
    assert german["pivot_text"] == "Where is my package?" and german["ts"].endswith("Z")
    # As docs/openapi.yaml says (the fuzzing's service has no fallbacks to group).
    assert Contract().problems(ROUTE, "GET", 200, body) == []


async def test_a_language_a_channel_and_a_limit(agent_client):
    auth = agent_client.auth
    persian = await (await agent_client.get(ROUTE, params={"language": "fa"}, headers=auth)).json()
    assert [g["count"] for g in persian["groups"]] == [2, 1]
    assert persian["language"] == "fa"
    web = await (await agent_client.get(ROUTE, params={"channel": "web"}, headers=auth)).json()
    assert [(g["language"], g["count"]) for g in web["groups"]] == [("en", 2), ("en", 1)]
    limited = await (await agent_client.get(ROUTE, params={"limit": "1"}, headers=auth)).json()
    assert [g["language"] for g in limited["groups"]] == ["de", "en", "fa", "he"]
    assert limited["groups_total"] == 7
    recent = await (await agent_client.get(ROUTE, params={"since": "1h"}, headers=auth)).json()
    assert (recent["messages"], recent["groups"]) == (0, [])


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"since": "a week"}, "`since` takes a count and a unit"),
        ({"since": "0d"}, "`since` takes a count and a unit"),
        ({"limit": "0"}, "`limit` must be a whole number from 1 to 100"),
        ({"limit": "101"}, "`limit` must be a whole number from 1 to 100"),
        ({"limit": "²"}, "`limit` must be a whole number"),
        ({"limit": "9" * 5000}, "`limit` must be a whole number"),
        ({"language": "x" * 33}, "`language` is longer than 32 characters"),
    ],
)
async def test_bad_queries(agent_client, params, error):
    response = await agent_client.get(ROUTE, params=params, headers=agent_client.auth)
    assert response.status == 400
    assert (await response.json())["error"].startswith(error)


async def test_a_draft_goes_to_the_review_file(agent_client, settings):
    text = 'Waar blijft mijn pakket? "nu": - #1\nAlstublieft'
    response = await agent_client.post(
        DRAFTS,
        json={"text": f"  {text} ", "language": "nl", "intent": "faq/shipping_time"},
        headers=agent_client.auth,
    )
    assert response.status == 201, await response.text()
    draft = (await response.json())["draft"]
    assert (draft["who"], draft["language"], draft["intent"], draft["text"]) == (
        "Daan",
        "nl",
        "faq/shipping_time",
        text,
    )
    assert read_drafts(settings.nlu_drafts) == [draft]
    assert Contract().problems(DRAFTS, "POST", 201, {"draft": draft}) == []
    assert "data" not in settings.nlu_drafts.parts


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"language": "en", "intent": "greet"}, "`text` must be a non-empty string"),
        ({"text": "  \n ", "language": "en", "intent": "greet"}, "`text` must be a non-empty"),
        ({"text": 42, "language": "en", "intent": "greet"}, "`text` must be a non-empty"),
        ({"text": "x" * 501, "language": "en", "intent": "greet"}, "`text` is longer than 500"),
        ({"text": "hi", "language": "xx", "intent": "greet"}, "`language` must be one the bot"),
        ({"text": "hi", "language": "de", "intent": "greet"}, "`language` must be one the bot"),
        ({"text": "hi", "intent": "greet"}, "`language` must be one the bot is trained in"),
        ({"text": "hi", "language": "en"}, "`intent` must be an intent name"),
        ({"text": "hi", "language": "en", "intent": "Greet"}, "`intent` must be"),
        ({"text": "hi", "language": "en", "intent": "track-order"}, "`intent` must be"),
        ({"text": "hi", "language": "en", "intent": "greet\n"}, "`intent` must be"),
        ({"text": "hi", "language": "en", "intent": "a" * 65}, "`intent` must be"),
        ({"text": "hi", "language": "en", "intent": ["greet"]}, "`intent` must be"),
    ],
)
async def test_bad_drafts(agent_client, settings, body, error):
    response = await agent_client.post(DRAFTS, json=body, headers=agent_client.auth)
    assert response.status == 400
    assert (await response.json())["error"].startswith(error)
    assert not settings.nlu_drafts.exists()


async def test_not_json(agent_client):
    response = await agent_client.post(DRAFTS, data="text=hi", headers=agent_client.auth)
    assert response.status == 415


async def test_drafts_at_once_are_all_kept(agent_client, settings):
    async def draft(number: int) -> int:
        response = await agent_client.post(
            DRAFTS,
            json={"text": f"draft {number}: 'quoted'", "language": "en", "intent": "greet"},
            headers=agent_client.auth,
        )
        return response.status

    assert await asyncio.gather(*(draft(n) for n in range(40))) == [201] * 40
    texts = sorted(entry["text"] for entry in read_drafts(settings.nlu_drafts))
    assert texts == sorted(f"draft {n}: 'quoted'" for n in range(40))
