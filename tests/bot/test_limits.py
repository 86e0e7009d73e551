"""Rate limits on the customer routes: per sender, per client address, and per address for
new conversations (DESIGN "HTTP": 429 JSON with retry_after). Other addresses are real:
a second client connects from 127.0.0.2, which is loopback too."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import ClientSession, TCPConnector, web
from aiohttp.test_utils import make_mocked_request

from bot.app import create_app
from bot.appkeys import SETTINGS
from bot.limits import KnownSenders, client_address
from bot.ratelimit import MemoryRateLimiter, Rate, parse_rate
from bot.settings import Settings, SettingsError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def from_address(address: str) -> AsyncIterator[ClientSession]:
    """A client whose requests come from `address` (the server sees it as request.remote)."""
    async with ClientSession(connector=TCPConnector(local_addr=(address, 0))) as session:
        yield session


async def limited(client, settings: Settings, **rates):
    return await client(create_app(replace(settings, **rates)))


async def say(client, sender: str, text: str = "hello"):
    return await client.post("/api/v1/messages", json={"sender": sender, "text": text})


async def assert_too_many(response) -> dict:
    assert response.status == 429
    body = await response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
    assert response.headers["Retry-After"] == str(body["retry_after"])
    return body


# The limiter ------------------------------------------------------------------------------


async def test_a_bucket_allows_a_burst_then_one_per_interval():
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    rate = Rate(4, 10)  # 4 at once, then one every 2.5 s
    assert [await limiter.hit("s", "k", rate) for _ in range(4)] == [0.0] * 4
    assert await limiter.hit("s", "k", rate) == pytest.approx(2.5)
    assert await limiter.wait("s", "k", rate) == pytest.approx(2.5)
    assert await limiter.hit("s", "other", rate) == 0.0, "keys are independent"
    assert await limiter.hit("t", "k", rate) == 0.0, "scopes are independent"
    clock.now += 2.5
    assert await limiter.hit("s", "k", rate) == 0.0
    assert await limiter.hit("s", "k", rate) == pytest.approx(2.5)
    await limiter.forget("s", "k")
    assert await limiter.hit("s", "k", rate) == 0.0


async def test_rejected_hits_are_not_counted():
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    rate = Rate(1, 10)
    await limiter.hit("s", "k", rate)
    for _ in range(50):  # hammering while limited does not push the wait further out
        assert await limiter.hit("s", "k", rate) == pytest.approx(10)
    clock.now += 10
    assert await limiter.hit("s", "k", rate) == 0.0


async def test_memory_stays_bounded_under_a_flood_of_keys():
    clock = Clock()
    limiter = MemoryRateLimiter(max_keys=1000, clock=clock)
    rate = Rate(5, 10)
    for n in range(50_000):
        await limiter.hit("s", f"sender-{n}", rate)
    assert limiter.keys("s") <= 1000
    clock.now += 11  # every bucket is full again: the next hit forgets them all
    await limiter.hit("s", "late", rate)
    assert limiter.keys("s") == 1


def test_rates_read_from_the_environment_and_named_when_wrong():
    assert parse_rate("20/10s") == Rate(20, 10) == parse_rate(" 20 / 10 ")
    assert parse_rate("30/10m") == Rate(30, 600)
    assert parse_rate("5/1h") == Rate(5, 3600)
    settings = Settings.from_env({"TOLK_RATE_PER_SENDER": "3/1m"})
    assert settings.rate_per_sender == Rate(3, 60)
    for bad in ("lots", "0/10s", "10/0", "-1/5s"):
        with pytest.raises(SettingsError, match="TOLK_RATE_PER_ADDRESS"):
            Settings.from_env({"TOLK_RATE_PER_ADDRESS": bad})


def test_the_defaults_protect():
    defaults = Settings.from_env({})
    assert defaults.rate_per_sender == Rate(20, 10)
    assert defaults.rate_per_address == Rate(60, 10)
    assert defaults.rate_new_conversations == Rate(30, 600)
    assert defaults.rate_reads_per_address.count / defaults.rate_reads_per_address.seconds <= 30


# The routes -------------------------------------------------------------------------------


async def test_one_sender_flooding_gets_429_with_retry_after_by_default(client):
    """The test app runs on the default limits: 20 messages at once per sender, then one
    every half second (20 per 10 s)."""
    statuses = []
    for n in range(40):
        response = await say(client, "flooder", f"message {n}")
        statuses.append(response.status)
        if response.status != 200:
            break
    assert statuses[:20] == [200] * 20
    body = await assert_too_many(response)
    assert body["retry_after"] <= 10
    refused = f"message {len(statuses) - 1}"
    stored = await client.get("/api/v1/conversations/flooder/messages")
    texts = [m["text"] for m in (await stored.json())["messages"] if m["from"] == "customer"]
    assert refused not in texts and len(texts) == len(statuses) - 1, "refused: not stored"
    assert (await say(client, "someone-else")).status == 200


async def test_one_address_inventing_senders_is_limited_by_default(client):
    """30 new conversations per 10 minutes per address."""
    statuses = [(await say(client, f"invented-{n}")).status for n in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


async def test_one_address_is_limited_across_senders(aiohttp_client, settings):
    client = await limited(aiohttp_client, settings, rate_per_address=Rate(5, 60))
    for n in range(5):
        assert (await say(client, f"sender-{n}")).status == 200
    await assert_too_many(await say(client, "sender-new"))
    await assert_too_many(await client.post("/chat/messages", json={"text": "hi"}))
    async with from_address("127.0.0.2") as other:
        response = await other.post(
            client.make_url("/api/v1/messages"), json={"sender": "elsewhere", "text": "hello"}
        )
        assert response.status == 200, "another address has its own budget"
    # Agents and Telegram are not customers of this limit.
    assert (await client.get("/api/v1/agent/tickets")).status == 401


async def test_one_address_inventing_senders_is_limited(aiohttp_client, settings):
    client = await limited(aiohttp_client, settings, rate_new_conversations=Rate(3, 600))
    for n in range(3):
        assert (await say(client, f"new-{n}")).status == 200
    body = await assert_too_many(await say(client, "new-3"))
    assert "new conversations" in body["error"]
    assert (await say(client, "new-0", "still talking")).status == 200, "existing ones go on"
    async with from_address("127.0.0.2") as other:
        response = await other.post(
            client.make_url("/api/v1/messages"), json={"sender": "new-4", "text": "hello"}
        )
        assert response.status == 200


async def test_web_chats_without_a_cookie_or_with_a_forged_one_are_new(aiohttp_client, settings):
    client = await limited(aiohttp_client, settings, rate_new_conversations=Rate(2, 600))
    first = await client.post("/chat/messages", json={"text": "hi"})
    assert first.status == 200
    client.session.cookie_jar.clear()
    assert (await client.post("/chat/messages", json={"text": "hi"})).status == 200
    forged = {"tolk_chat": "A" * 24}
    response = await client.post("/chat/messages", json={"text": "hi"}, cookies=forged)
    await assert_too_many(response)
    client.session.cookie_jar.update_cookies({"tolk_chat": first.cookies["tolk_chat"].value})
    assert (await client.post("/chat/messages", json={"text": "again"})).status == 200


async def test_polling_is_limited_per_address(aiohttp_client, settings):
    client = await limited(aiohttp_client, settings, rate_reads_per_address=Rate(4, 60))
    for _ in range(4):
        assert (await client.get("/chat/messages")).status == 200
    await assert_too_many(await client.get("/chat/messages"))
    await assert_too_many(await client.get("/api/v1/conversations/x/messages"))


async def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(aiohttp_client, settings):
    client = await limited(aiohttp_client, settings, rate_per_address=Rate(2, 60))
    for n in range(2):
        assert (await say(client, f"s-{n}")).status == 200
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    response = await client.post(
        "/api/v1/messages", json={"sender": "s-x", "text": "hi"}, headers=spoofed
    )
    await assert_too_many(response)

    client = await limited(aiohttp_client, settings, rate_per_address=Rate(2, 60), trust_proxy=True)
    for n in range(2):  # the proxy appends the address it saw; earlier entries are the client's
        headers = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"}
        response = await client.post(
            "/api/v1/messages", json={"sender": f"p-{n}", "text": "hi"}, headers=headers
        )
        assert response.status == 200
    headers = {"X-Forwarded-For": "198.51.100.99, 203.0.113.7"}
    response = await client.post(
        "/api/v1/messages", json={"sender": "p-x", "text": "hi"}, headers=headers
    )
    await assert_too_many(response)
    headers = {"X-Forwarded-For": "203.0.113.8"}
    response = await client.post(
        "/api/v1/messages", json={"sender": "p-y", "text": "hi"}, headers=headers
    )
    assert response.status == 200, "another client behind the same proxy"


@pytest.mark.parametrize(
    ("headers", "counted_as"),
    [
        ({"X-Forwarded-For": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"),  # one customer's block
        ({"X-Forwarded-For": "::ffff:192.0.2.7"}, "192.0.2.7"),
        ({"Forwarded": 'for="[2001:db8::5]:443"'}, "2001:db8::/64"),
        ({"Forwarded": "for=192.0.2.60:8080"}, "192.0.2.60"),
    ],
)
def test_addresses_behind_a_trusted_proxy(headers, counted_as):
    app = web.Application()
    app[SETTINGS] = replace(Settings(), trust_proxy=True)
    assert client_address(make_mocked_request("GET", "/chat/messages", headers, app=app)) == (
        counted_as
    )


def test_known_senders_keep_the_latest_ones_only():
    known = KnownSenders(size=2)
    known.add("web-a")
    known.add("web-b")
    assert "web-a" in known  # seen again: now the latest
    known.add("web-c")
    assert "web-b" not in known and "web-a" in known and "web-c" in known
