"""Several Rasa replicas behind one gateway (TOLK_RASA_URL with commas): conversations
spread over them and stay with theirs; a replica that refuses connections is skipped; one
that took a message and failed is not asked again elsewhere (the message waits for the
retry, so Rasa never sees it twice)."""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import Settings, SettingsError


class Replica:
    def __init__(self, name: str) -> None:
        self.name = name
        self.senders: list[str] = []
        self.status = 200

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/", self._hello)
        return app

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa")

    async def _webhook(self, request: web.Request) -> web.Response:
        self.senders.append((await request.json())["sender"])
        if self.status != 200:
            return web.Response(status=self.status)
        return web.json_response([{"text": f"from {self.name}"}])


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"  # nobody listens once closed


@pytest.fixture
async def replicas(aiohttp_server):
    found = []
    for name in ("a", "b"):
        replica = Replica(name)
        server = await aiohttp_server(replica.app())
        found.append((replica, str(server.make_url("")).rstrip("/")))
    return found


async def test_conversations_spread_and_stay_with_their_replica(replicas):
    (a, a_url), (b, b_url) = replicas
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, [a_url, b_url], a_url, 5)
        for n in range(40):
            for _ in range(2):
                await client.send(f"rest-{n}", "hello", {})
    assert 10 <= len(set(a.senders)) <= 30 and len(set(a.senders) | set(b.senders)) == 40
    assert not set(a.senders) & set(b.senders), "a conversation stays with one replica"
    assert set(Counter(a.senders + b.senders).values()) == {2}


async def test_a_replica_that_refuses_connections_is_skipped(replicas):
    (a, a_url), _ = replicas
    down = closed_port()
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, [down, a_url], a_url, 5)
        senders = [f"rest-{n}" for n in range(20)]
        answers = [await client.send(sender, "hello", {}) for sender in senders]
        assert all(m[0].text == "from a" for m in answers)
        assert sorted(a.senders) == sorted(senders)
        assert await client.rasa_health() is None, "one replica up is enough to serve"

        both_down = RasaClient(session, [down, closed_port()], a_url, 5)
        with pytest.raises(RasaUnavailable, match="not reachable"):
            await both_down.send("rest-x", "hello", {})
        assert "; " in (await both_down.rasa_health() or "")


async def test_a_replica_that_took_the_message_and_failed_is_not_retried_elsewhere(replicas):
    (a, a_url), (b, b_url) = replicas
    a.status = b.status = 500
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, [a_url, b_url], a_url, 5)
        with pytest.raises(RasaUnavailable, match="HTTP 500"):
            await client.send("rest-once", "hello", {})
    assert len(a.senders) + len(b.senders) == 1


def test_the_setting_takes_replicas_separated_by_commas():
    read = Settings.from_env({"TOLK_RASA_URL": "http://rasa-1:5005/, http://rasa-2:5005"})
    assert read.rasa_url == "http://rasa-1:5005,http://rasa-2:5005"
    assert read.rasa_urls == ("http://rasa-1:5005", "http://rasa-2:5005")
    for bad in ("rasa-1:5005", "http://a:1,http://a:1", " , ", "http://"):
        with pytest.raises(SettingsError, match="TOLK_RASA_URL"):
            Settings.from_env({"TOLK_RASA_URL": bad})
    assert replace(read, rasa_url="http://x:1").rasa_url == "http://x:1"
