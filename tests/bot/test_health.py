"""/healthz, /readyz, /livez: up or down for anyone, which part and why for the admin token."""

from dataclasses import replace

import pytest

from bot.app import create_app
from tests.gateway_fixtures import ADMIN_HEADERS, ADMIN_TOKEN, NLG_HEADERS


async def test_healthy_when_rasa_actions_and_database_answer(client):
    response = await client.get("/healthz", headers=ADMIN_HEADERS)
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "checks": {"rasa": "ok", "actions": "ok", "database": "ok"},
    }


async def test_says_which_part_is_down(client, fake_rasa):
    fake_rasa.actions_up = False
    response = await client.get("/healthz", headers=ADMIN_HEADERS)
    assert response.status == 503
    body = await response.json()
    assert body["down"] == ["actions"]
    assert body["checks"]["rasa"] == "ok"


async def test_rasa_unreachable(aiohttp_client, settings):
    client = await aiohttp_client(create_app(replace(settings, rasa_url="http://127.0.0.1:9")))
    body = await (await client.get("/healthz", headers=ADMIN_HEADERS)).json()
    assert body["down"] == ["rasa"]
    assert "not reachable" in body["checks"]["rasa"]


@pytest.mark.parametrize(
    "headers",
    [{}, NLG_HEADERS, {"Authorization": ADMIN_TOKEN}, {"Authorization": "Bearer x"}],
    ids=["anonymous", "nlg-secret", "no-scheme", "wrong"],
)
async def test_strangers_only_learn_up_or_down(aiohttp_client, settings, headers):
    # Before: anyone read the checks, with internal addresses' exception names in them.
    client = await aiohttp_client(create_app(replace(settings, rasa_url="http://127.0.0.1:9")))
    response = await client.get("/healthz", headers=headers)
    assert response.status == 503
    assert await response.json() == {"status": "degraded"}
    response = await client.get("/readyz", headers=headers)
    assert response.status == 503
    assert await response.json() == {"status": "degraded"}


async def test_anonymous_healthy_is_a_bare_ok(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_ready_needs_the_database_and_rasa_not_the_actions(client, fake_rasa):
    fake_rasa.actions_up = False
    assert (await client.get("/healthz")).status == 503
    response = await client.get("/readyz", headers=ADMIN_HEADERS)
    assert response.status == 200
    assert await response.json() == {"status": "ok", "checks": {"rasa": "ok", "database": "ok"}}


async def test_alive_while_everything_else_is_down(aiohttp_client, settings):
    client = await aiohttp_client(create_app(replace(settings, rasa_url="http://127.0.0.1:9")))
    response = await client.get("/livez")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
