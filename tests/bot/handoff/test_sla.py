"""SLA targets per priority and channel, and the warning and breach alerts: each sent once,
to the database (the console) and the webhook, signed, without what the customer wrote."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiohttp import ClientSession, web

from bot.alerts import SIGNATURE_HEADER, Alerts, AlertWebhook, signature
from bot.app import create_app
from bot.appkeys import ALERTS, GATEWAY
from bot.db import create_engine, create_schema
from bot.handoff.sla import SlaPolicy, SlaPolicyError, SlaWatch
from bot.settings import Settings, SettingsError

SECRET = "webhook-secret-for-the-tests"
SECRET_WORDS = "my card number is 4111 and I am furious"
LONG_AGO = datetime(2000, 1, 1)


class Hook:
    """A team chat's incoming webhook: records what it is sent; `status` is its answer."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str, bytes]] = []
        self.status = 200

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        return app

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((json.loads(body), request.headers.get(SIGNATURE_HEADER, ""), body))
        return web.json_response({}, status=self.status)


@pytest.fixture
def hook() -> Hook:
    return Hook()


@pytest.fixture
async def sla_client(aiohttp_client, aiohttp_server, settings, hook):
    server = await aiohttp_server(hook.app())
    configured = replace(
        settings,
        sla=SlaPolicy.parse("cold=10m,rest:cold=20m"),
        alert_webhook_url=str(server.make_url("/hook")),
        alert_webhook_secret=SECRET,
    )
    return await aiohttp_client(create_app(configured))


def test_targets_per_priority_and_channel():
    policy = SlaPolicy.parse("hot=10m, email:cold=4h,whatsapp:hot=90s", warn_at=0.5)
    assert policy.target("hot", "rest") == timedelta(minutes=10)
    assert policy.target("cold", "rest") == timedelta(minutes=30)  # the default stays
    assert policy.target("cold", "email") == timedelta(hours=4)
    assert policy.target("hot", "whatsapp") == timedelta(seconds=90)
    assert policy.channels == {"email", "whatsapp"}
    assert policy.describe() == "hot 10m, cold 30m, email cold 4h, whatsapp hot 90s"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("hot=5x", "not [channel:]priority=duration"),
        ("warm=5m", "unknown priority 'warm'"),
        ("hot=0m", "longer than 0"),
        ("hot=5m;cold=1h", "not [channel:]priority=duration"),
        ("a" * 5000, "not [channel:]priority=duration"),
    ],
)
def test_a_wrong_policy_says_what_is_wrong(raw, says):
    with pytest.raises(SlaPolicyError, match="TOLK_SLA") as raised:
        SlaPolicy.parse(raw)
    assert says in str(raised.value)
    assert len(str(raised.value)) < 200  # a hostile value is not echoed whole


@pytest.mark.parametrize(
    "env",
    [
        {"TOLK_SLA": "hot=soon"},
        {"TOLK_SLA_WARN_AT": "1.5"},
        {"TOLK_SLA_WARN_AT": "most"},
        {"TOLK_ALERT_WEBHOOK_URL": "file:///etc/passwd"},
    ],
)
def test_settings_refuse_a_wrong_policy_or_webhook(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_a_policy_for_a_channel_that_does_not_exist_stops_the_start(settings):
    with pytest.raises(SettingsError, match="TOLK_SLA names whatsup, not a channel"):
        create_app(replace(settings, sla=SlaPolicy.parse("whatsup:hot=1m")))


async def open_ticket(client, sender: str = "c1") -> int:
    response = await client.post("/api/v1/messages", json={"sender": sender, "text": "/human"})
    assert response.status == 200
    return (await response.json())["handoff"]["ticket"]


def watch_at(client, minutes: float) -> SlaWatch:
    """The SLA watch as the app runs it, at `minutes` after now."""
    handoff = client.app[GATEWAY].handoff
    moment = handoff.clock() + timedelta(minutes=minutes)
    return SlaWatch(handoff.tickets, client.app[ALERTS], lambda: moment)


async def test_a_ticket_gets_the_channel_target_and_a_warning_before_it(sla_client):
    ticket_id = await open_ticket(sla_client)
    ticket = await sla_client.app[GATEWAY].handoff.tickets.get(ticket_id)
    assert ticket.sla_due_at - ticket.created_at == timedelta(minutes=20)  # rest:cold=20m
    assert ticket.sla_warn_at - ticket.created_at == timedelta(minutes=16)  # 0.8 of it


async def test_warning_then_breach_each_once_signed_and_without_the_customers_words(
    sla_client, hook
):
    await sla_client.post("/api/v1/messages", json={"sender": "c1", "text": SECRET_WORDS})
    ticket_id = await open_ticket(sla_client)

    await watch_at(sla_client, 15).run()
    assert hook.received == []
    for _ in range(2):  # a second round sends nothing new
        await watch_at(sla_client, 16.5).run()
    for _ in range(2):
        await watch_at(sla_client, 21).run()

    kinds = [payload["kind"] for payload, _, _ in hook.received]
    assert kinds == ["sla_warning", "sla_breach"]
    for payload, signed, body in hook.received:
        assert signed == signature(SECRET, body)
        assert payload["ticket"] == ticket_id and payload["channel"] == "rest"
        assert payload["priority"] == "cold" and payload["language"] == "en"
        assert "furious" not in body.decode() and "4111" not in body.decode()
    warning, breach = (payload["text"] for payload, _, _ in hook.received)
    assert f"ticket {ticket_id}" in warning and "due in 4 min" in warning
    assert "SLA breached" in breach and "1 min ago" in breach
    stored = await sla_client.app[ALERTS].after(0, since=LONG_AGO)
    assert [alert.kind for alert in stored] == kinds


async def test_no_alert_once_an_agent_has_answered(sla_client, hook):
    ticket_id = await open_ticket(sla_client)
    await sla_client.app[GATEWAY].handoff.tickets.responded(ticket_id)
    await watch_at(sla_client, 17).run()
    await watch_at(sla_client, 30).run()
    assert hook.received == []


async def test_a_ticket_found_past_due_gets_the_breach_only(sla_client, hook):
    await open_ticket(sla_client)
    await watch_at(sla_client, 25).run()
    assert [payload["kind"] for payload, _, _ in hook.received] == ["sla_breach"]


async def test_two_replicas_send_each_alert_once(sla_client, hook):
    await open_ticket(sla_client, "c1")
    await open_ticket(sla_client, "c2")
    replicas = [watch_at(sla_client, 17) for _ in range(3)]
    await asyncio.gather(*(replica.run() for replica in replicas))
    assert sorted(p["ticket"] for p, _, _ in hook.received) == [1, 2]


async def test_a_webhook_that_fails_loses_no_alert_for_the_console(sla_client, hook, caplog):
    hook.status = 500
    await open_ticket(sla_client)
    await watch_at(sla_client, 17).run()
    assert len(hook.received) == 2  # tried once more
    assert "not delivered to the webhook: HTTP 500" in caplog.text
    stored = await sla_client.app[ALERTS].after(0, since=LONG_AGO)
    assert [alert.kind for alert in stored] == ["sla_warning"]


async def test_an_unreachable_webhook_keeps_the_alert(settings, caplog):
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    try:
        async with ClientSession() as session:
            webhook = AlertWebhook(session, "http://127.0.0.1:9/hook", None)
            alerts = Alerts(engine, webhook)
            alert = await alerts.add("sla_breach", "ticket 1 late", None)
            assert await alerts.after(0, since=LONG_AGO) == [alert]
            assert await alerts.after(alert.id, since=LONG_AGO) == []
    finally:
        await engine.dispose()
    assert "not delivered to the webhook: ClientConnectorError" in caplog.text
