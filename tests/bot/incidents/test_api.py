"""The incidents API's answers to wrong requests: clear 400s, 401 without a token, 404."""

from __future__ import annotations

import pytest

from tests.bot.incidents.conftest import PAYMENTS


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"text": "Down"}, "`intent` must be an intent name"),
        ({"intent": "Payments!", "text": "Down"}, "`intent` must be an intent name"),
        ({"intent": "greet", "text": "Down"}, "names no problem"),
        ({"intent": PAYMENTS}, "`text` must be a non-empty string"),
        ({"intent": PAYMENTS, "text": "  "}, "`text` must be a non-empty string"),
        ({"intent": PAYMENTS, "text": "Down", "language": "fa"}, "one of yours: en, nl"),
        ({"intent": PAYMENTS, "text": "Down", "push": "yes"}, "`push` must be true or false"),
        ({"intent": PAYMENTS, "text": "Down", "texts": ["nl"]}, "`texts` must map"),
        ({"intent": PAYMENTS, "text": "Down", "texts": {"xx": "a"}}, "not a language code"),
        ({"intent": PAYMENTS, "text": "Down", "texts": {"nl": 3}}, "`nl` must be a non-empty"),
    ],
)
async def test_publishing_refuses_what_it_cannot_use(bot, body, error):
    lead = await bot.add("Lena", "en,nl", role="lead")
    status, answer = await bot.call("POST", "/incidents", lead, json=body)
    assert status == 400
    assert error in answer["error"]
    assert (await bot.call("GET", "/incidents", lead))[1] == {"incidents": []}


async def test_agents_only_and_unknown_incidents(bot):
    response = await bot.client.get("/api/v1/agent/incidents")
    assert response.status == 401
    response = await bot.client.post(
        "/api/v1/agent/incidents",
        json={"intent": PAYMENTS, "text": "Down"},
        headers={"Authorization": "Bearer wrong"},
    )
    assert response.status == 401
    lead = await bot.add("Lena", "en", role="lead")
    for raw in ("999", "x1", "١"):
        status, answer = await bot.call("POST", f"/incidents/{raw}/close", lead)
        assert status == 404 and "no incident" in answer["error"]
    status, answer = await bot.call("GET", "/incidents?status=gone", lead)
    assert status == 400 and "open, closed" in answer["error"]


async def test_only_leads_publish_and_close(bot):
    lead = await bot.add("Lena", "en", role="lead")
    agent = await bot.add("Daan", "en")
    body = {"intent": PAYMENTS, "text": "Card payments fail right now."}
    status, answer = await bot.call("POST", "/incidents", agent, json=body)
    assert status == 403 and "only a lead may publish incident notices" in answer["error"]
    assert (await bot.call("GET", "/incidents", agent))[1] == {"incidents": []}
    status, published = await bot.call("POST", "/incidents", lead, json=body)
    assert status == 201
    status, answer = await bot.call("POST", f"/incidents/{published['id']}/close", agent)
    assert status == 403 and "only a lead may close incidents" in answer["error"]
    listed = (await bot.call("GET", "/incidents", agent))[1]["incidents"]
    assert [incident["status"] for incident in listed] == ["open"]
