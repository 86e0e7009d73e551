"""The console's live feed with two gateway replicas on one PostgreSQL database and one
Redis (TOLK_TEST_POSTGRES_URL, TOLK_TEST_REDIS_URL): a ticket opened through one shows at
once on an agent's console connected to the other, told through Redis pub/sub
(bot/changes.py), not found by polling; and with Redis gone, tickets are still handled
and the feed shows them by its one-second tick."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from bot import changes
from bot.app import create_app
from bot.appkeys import CHANGES, GATEWAY
from bot.console import views
from tests.bot.console.test_views import PASSWORD, log_in, next_message, open_ticket, origin
from tests.bot.test_redis_limiter import CuttableProxy
from tests.servers import postgres_database, redis_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(autouse=True)
def slow_safety_tick(monkeypatch):
    """Polling this slowly cannot explain anything these tests see within seconds; a
    channel of its own keeps other test runs on the server from waking the feeds."""
    monkeypatch.setattr(views, "SAFETY_TICK_SECONDS", 30.0)
    monkeypatch.setattr(changes, "CHANNEL", f"tolk:test-console-{secrets.token_hex(6)}")


@pytest.fixture
async def database_url():
    async with postgres_database() as url:
        yield url


def replica_settings(settings, database_url: str, redis: str):
    # agent_timeout / 4 would otherwise cap the safety tick at 15 s (presence marking).
    return replace(settings, database_url=database_url, redis_url=redis, agent_timeout=600)


async def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


async def console_on(client):
    """Ana logged in on this replica, her feed connected and past its first queue."""
    response = await log_in(client)
    assert response.status == 200, await response.text()
    ws = await client.ws_connect("/console/ws", headers={"Origin": origin(client)})
    await next_message(ws, "queue")
    return ws


def lists(ticket: int):
    return lambda message: any(t["id"] == ticket for t in message["tickets"])


async def test_a_ticket_opened_on_one_replica_shows_at_once_on_the_other(
    database_url, aiohttp_client, settings
):
    configured = replica_settings(settings, database_url, redis_url())
    first = await aiohttp_client(create_app(configured))
    second = await aiohttp_client(create_app(configured))
    await first.app[GATEWAY].handoff.agents.add("Ana", ("en",), password=PASSWORD)
    ws = await console_on(second)
    try:
        await until(lambda: second.app[CHANGES].shared)  # listening to Redis
        await asyncio.sleep(0.3)  # the feed took its round after subscribing: 30 s to go
        started = time.monotonic()
        ticket = await open_ticket(first, "c1")
        queue = await next_message(ws, "queue", timeout=1.0, until=lists(ticket))
        assert time.monotonic() - started < 1.0
        listed = next(t for t in queue["tickets"] if t["id"] == ticket)
        assert listed["customer"]["sender"] == "rest-c1"

        # What she watches follows too: the customer writing again through the first.
        await ws.send_json({"type": "watch", "ticket": ticket})
        await next_message(ws, "ticket")
        await first.post("/api/v1/messages", json={"sender": "c1", "text": "still there?"})
        changed = await next_message(
            ws,
            "ticket",
            timeout=1.0,
            until=lambda m: m["ticket"]["transcript"][-1]["text"] == "still there?",
        )
        assert changed["ticket"]["id"] == ticket
    finally:
        await ws.close()


async def test_without_redis_tickets_are_handled_and_the_feed_polls(
    database_url, aiohttp_client, settings, caplog
):
    caplog.set_level(logging.WARNING, logger="bot.changes")
    target = urlsplit(redis_url())
    proxies = [CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379) for _ in (1, 2)]
    apps = []
    for proxy in proxies:
        await proxy.start()
        redis = f"redis://127.0.0.1:{proxy.port}{target.path}"
        apps.append(
            await aiohttp_client(create_app(replica_settings(settings, database_url, redis)))
        )
    first, second = apps
    await first.app[GATEWAY].handoff.agents.add("Ana", ("en",), password=PASSWORD)
    ws = await console_on(second)  # logging in needs Redis (the shared login throttle)
    try:
        await until(lambda: second.app[CHANGES].shared)
        for proxy in proxies:
            await proxy.cut()
        await until(lambda: not second.app[CHANGES].shared)

        tickets = [await open_ticket(first, f"c{n}") for n in range(3)]  # all answered
        queue = await next_message(ws, "queue", timeout=3.0, until=lists(tickets[-1]))
        assert {t["id"] for t in queue["tickets"]} >= set(tickets)

        # The agent works on through the replica she is on: claim, reply, resolve.
        csrf = (await (await second.get("/console/session")).json())["csrf"]
        headers = {"X-CSRF-Token": csrf}
        base = f"/api/v1/agent/tickets/{tickets[0]}"
        steps = (("/claim", {}, 200), ("/messages", {"text": "hello"}, 201), ("/resolve", {}, 200))
        for path, body, status in steps:
            response = await second.post(base + path, json=body, headers=headers)
            assert response.status == status, await response.text()
        # Changed on her own replica: her feed is told in-process, Redis or not.
        await next_message(
            ws,
            "queue",
            timeout=0.5,
            until=lambda m: any(
                t["id"] == tickets[0] and t["status"] == "resolved" for t in m["tickets"]
            ),
        )
    finally:
        await ws.close()
        for proxy in proxies:
            await proxy.cut()
    where = f"127.0.0.1:{proxies[0].port}"
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.changes" and where in r.getMessage()
    ]
    assert sum("does not answer" in line for line in said) == 1, said  # not once per ticket
