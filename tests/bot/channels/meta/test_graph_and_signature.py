"""The shared Meta pieces on their own: the signature check and the Graph API client's
bounded retries (waits recorded, not slept, so the test does not depend on the clock)."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.meta import graph as graph_module
from bot.channels.meta.graph import GraphClient, GraphError, RetryPolicy
from bot.channels.meta.webhook import sign, signature_ok
from tests.graph_server import TOKEN, FakeGraph, serve

BODY = b'{"object":"page","entry":[]}'


def test_the_signature_is_an_hmac_of_the_raw_bytes():
    header = sign(BODY, "secret")
    assert header.startswith("sha256=") and signature_ok(BODY, header, "secret")
    assert signature_ok(BODY, header.upper().replace("SHA256=", "sha256="), "secret")
    assert not signature_ok(BODY + b" ", header, "secret")
    assert not signature_ok(BODY, header, "other secret")
    assert not signature_ok(BODY, header.replace("sha256=", "sha1="), "secret")
    assert not signature_ok(BODY, None, "secret")
    assert not signature_ok(BODY, "sha256=", "secret")
    assert not signature_ok(BODY, header, ""), "no secret configured: nothing is accepted"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(graph_module.asyncio, "sleep", sleep)
    return recorded


async def _client(aiohttp_server, fake: FakeGraph, **policy) -> GraphClient:
    url = await serve(aiohttp_server, fake)
    return GraphClient(url, "v21.0", TOKEN, RetryPolicy(**policy))


BODY_JSON = {
    "messaging_product": "whatsapp",
    "to": "31600000000",
    "type": "text",
    "text": {"body": "hi"},
}


async def test_retry_after_is_honoured_and_capped(aiohttp_server, waits):
    fake = FakeGraph()
    fake.fail_next += [
        {"status": 429, "retry_after": "2"},
        {"status": 429, "retry_after": "3600"},  # an hour: capped at max_wait
    ]
    client = await _client(aiohttp_server, fake, max_wait=30.0)
    answer = await client.post(f"{fake.phone_number_id}/messages", BODY_JSON)
    await client.close()
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert waits == [2.0, 30.0] and len(fake.sent) == 1


async def test_5xx_is_retried_a_bounded_number_of_times_then_a_clear_error(aiohttp_server, waits):
    fake = FakeGraph()
    fake.fail_next += [{"status": 502, "code": 2}] * 5
    client = await _client(aiohttp_server, fake, attempts=4, first_pause=0.5)
    with pytest.raises(GraphError) as failure:
        await client.post(f"{fake.phone_number_id}/messages", BODY_JSON)
    await client.close()
    assert failure.value.status == 502 and "Meta refused" in failure.value.message
    assert waits == [0.5, 1.0, 2.0], "doubling pauses without Retry-After, 4 tries in all"
    assert len(fake.requests) == 4 and fake.sent == []


async def test_a_4xx_is_not_retried(aiohttp_server, waits):
    fake = FakeGraph()
    fake.fail_next.append({"status": 400, "code": 131047})
    client = await _client(aiohttp_server, fake)
    with pytest.raises(GraphError) as failure:
        await client.post(f"{fake.phone_number_id}/messages", BODY_JSON)
    await client.close()
    assert failure.value.code == 131047 and waits == [] and len(fake.requests) == 1


async def test_an_unreachable_graph_api_is_a_clear_error(waits):
    client = GraphClient("http://127.0.0.1:9", "v21.0", TOKEN, RetryPolicy(attempts=2))
    with pytest.raises(GraphError, match="could not be reached"):
        await client.post("me/messages", {"recipient": {"id": "1"}})
    await client.close()
    assert len(waits) == 1
