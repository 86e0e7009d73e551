"""Incidents in the agent console: the panel is on the page (text inserted as text only),
publishing with the session cookie needs the CSRF header like every change, and a surge
alert reaches the console's live feed."""

from __future__ import annotations

from bot.appkeys import INCIDENTS
from bot.console.sessions import CSRF_HEADER
from tests.bot.console.test_views import next_message, origin
from tests.bot.incidents.conftest import ASKS, PAYMENTS


async def signed_in(bot) -> str:
    await bot.add("Lena", "en,nl", role="lead")
    response = await bot.client.post(
        "/console/login", json={"name": "Lena", "password": "a long password"}
    )
    assert response.status == 200, await response.text()
    return (await response.json())["csrf"]


async def test_the_panel_publishes_and_closes_with_the_csrf_token(bot):
    page = await (await bot.client.get("/console")).text()
    for element in ('id="incident-form"', 'id="incident-intent"', 'id="incident-list"'):
        assert element in page
    assert "innerHTML" not in page and " onclick=" not in page
    assert '"/api/v1/agent/incidents"' in page

    csrf = await signed_in(bot)
    body = {"intent": PAYMENTS, "text": "Card payments fail right now."}
    forged = await bot.client.post("/api/v1/agent/incidents", json=body)
    assert forged.status == 403
    published = await bot.client.post(
        "/api/v1/agent/incidents", json=body, headers={CSRF_HEADER: csrf}
    )
    assert published.status == 201, await published.text()
    incident = (await published.json())["id"]
    closed = await bot.client.post(
        f"/api/v1/agent/incidents/{incident}/close", headers={CSRF_HEADER: csrf}
    )
    assert closed.status == 200
    assert (await closed.json())["status"] == "closed"


async def test_a_surge_alert_reaches_the_console(bot):
    await signed_in(bot)
    client = bot.client
    async with client.ws_connect("/console/ws", headers={"Origin": origin(client)}) as ws:
        for n, language in enumerate(("en", "nl", "fa")):
            await bot.say(f"rest-w{n}", ASKS[language], language=language)
        await client.server.app[INCIDENTS].settled()
        shown = await next_message(ws, "alerts", until=lambda message: message["alerts"])
        [alert] = shown["alerts"]
        # The intent, for the lead's "Write a notice" to fill in the incident form.
        assert (alert["kind"], alert["ticket"], alert["intent"]) == ("surge", None, PAYMENTS)
        assert PAYMENTS in alert["text"]
