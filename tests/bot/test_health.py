from dataclasses import replace

from bot.app import create_app


async def test_healthy_when_rasa_actions_and_database_answer(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "checks": {"rasa": "ok", "actions": "ok", "database": "ok"},
    }


async def test_says_which_part_is_down(client, fake_rasa):
    fake_rasa.actions_up = False
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["down"] == ["actions"]
    assert body["checks"]["rasa"] == "ok"


async def test_rasa_unreachable(aiohttp_client, settings):
    client = await aiohttp_client(create_app(replace(settings, rasa_url="http://127.0.0.1:9")))
    body = await (await client.get("/healthz")).json()
    assert body["down"] == ["rasa"]
    assert "not reachable" in body["checks"]["rasa"]
