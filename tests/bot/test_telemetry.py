"""GET /metrics: who may read it, what it counts, and that strangers cannot grow it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.appkeys import GATEWAY
from bot.telemetry import Telemetry
from bot.translation.backends import TranslatorRejected, TranslatorUnavailable
from bot.translation.resilience import ResilientTranslator
from tests.bot.translation.test_resilience import FakeBackend, FakeTime

TOKEN = "metrics-token-for-the-tests"
DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "tolk-dashboard.json"


def samples(exposition: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scraped(client, **headers: str) -> dict:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    return samples(await response.text())


async def test_counts_requests_by_route_template_not_by_path(client):
    for sender in ("alice", "bob", "evil%2Fpasswd"):
        await client.get(f"/api/v1/conversations/{sender}/messages")
    found = await scraped(client)
    route = "/api/v1/conversations/{sender}/messages"
    count = "tolk_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route=route, status="404") == 3
    text = await (await client.get("/metrics")).text()
    assert "alice" not in text and "passwd" not in text


async def test_made_up_paths_and_languages_share_one_label(client):
    for number in range(50):
        await client.get(f"/no/such/path/{number}")
    await client.post(
        "/api/v1/messages", json={"sender": "s1", "text": "hello", "language": "zz-made-up"}
    )
    text = await (await client.get("/metrics")).text()
    assert "/no/such/path" not in text and "zz-made-up" not in text
    found = samples(text)
    count = "tolk_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route="unmatched", status="404") == 50


async def test_counts_messages_and_handoffs_by_channel_and_language(client):
    await client.post("/api/v1/messages", json={"sender": "c1", "text": "where is my parcel?"})
    await client.post("/api/v1/messages", json={"sender": "c2", "text": "/human"})
    found = await scraped(client)
    messages = "tolk_messages_total"
    assert value(found, messages, channel="rest", language="en", outcome="answered") == 1
    assert value(found, messages, channel="rest", language="en", outcome="handoff") == 1
    assert value(found, "tolk_handoffs_total", channel="rest", language="en", reason="request") == 1
    assert value(found, "tolk_message_duration_seconds_count", channel="rest") == 2
    assert value(found, "tolk_rasa_request_duration_seconds_count", outcome="ok") == 2
    # Nobody is on duty: the ticket waits; Dutch shows with no queue.
    assert value(found, "tolk_queue_tickets", language="en") == 1
    assert ("tolk_queue_tickets", (("language", "nl"),)) in found
    assert value(found, "tolk_agents_online") == 0
    assert value(found, "tolk_assigned_tickets") == 0


async def test_rasa_down_is_counted_and_the_message_kept(client, fake_rasa):
    fake_rasa.status = 500
    await client.post("/api/v1/messages", json={"sender": "c1", "text": "hello there"})
    found = await scraped(client)
    assert value(found, "tolk_rasa_request_duration_seconds_count", outcome="unavailable") == 1
    assert value(found, "tolk_messages_total", channel="rest", language="en", outcome="failed") == 1


async def test_a_redelivered_message_counts_as_a_duplicate(client):
    body = {"sender": "c1", "text": "hello there", "message_id": "m-1"}
    await client.post("/api/v1/messages", json=body)
    await client.post("/api/v1/messages", json=body)
    found = await scraped(client)
    assert value(found, "tolk_messages_total", channel="rest", language="en", outcome="duplicate")


async def test_sla_breaches_are_counted_from_the_database(client):
    await client.post("/api/v1/messages", json={"sender": "c1", "text": "/human"})
    handoff = client.app[GATEWAY].handoff
    assert value(await scraped(client), "tolk_sla_breached_tickets") == 0
    later = handoff.clock() + handoff.policy.sla.target("cold", "rest") * 2
    handoff.clock = lambda: later
    assert value(await scraped(client), "tolk_sla_breached_tickets") == 1


async def test_process_memory_is_exposed(client):
    found = await scraped(client)
    assert value(found, "process_resident_memory_bytes") > 0


@pytest.mark.parametrize(
    "forwarding",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
    ],
)
async def test_without_a_token_a_proxied_request_is_refused(client, forwarding):
    # A reverse proxy on this machine makes every stranger's request come from loopback.
    response = await client.get("/metrics", headers=forwarding)
    assert response.status == 401
    assert "TOLK_METRICS_TOKEN" in (await response.json())["error"]


@pytest.mark.parametrize("given", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
async def test_with_a_token_only_the_token_reads(aiohttp_client, settings, given):
    client = await aiohttp_client(create_app(replace(settings, metrics_token=TOKEN)))
    headers = {"Authorization": given} if given else {}
    response = await client.get("/metrics", headers=headers)
    assert response.status == 401
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200


async def test_translator_calls_by_outcome_and_memory_lookups():
    telemetry = Telemetry(("en",), (), ("rest",))
    backend = FakeBackend(errors=[TranslatorUnavailable("down"), TranslatorRejected("no")])
    clock = FakeTime()
    translator = ResilientTranslator(
        backend, timeout=1, retries=1, clock=clock.clock, sleep=clock.sleep, telemetry=telemetry
    )
    with pytest.raises(TranslatorRejected):  # down, retried, refused
        await translator.translate(["hallo"], "nl", "en")
    assert await translator.translate(["hallo"], "nl", "en") == ["⟪hallo⟫"]
    telemetry.memory_lookups(hits=2, misses=1)
    found = samples(telemetry.exposition().decode())
    calls = "tolk_translator_call_duration_seconds_count"
    for outcome in ("unavailable", "rejected", "ok"):
        assert value(found, calls, backend="fake", outcome=outcome) == 1, outcome
    assert value(found, "tolk_translation_memory_lookups_total", result="hit") == 2
    assert value(found, "tolk_translation_memory_lookups_total", result="miss") == 1


async def test_the_grafana_dashboard_asks_for_metrics_that_exist(client):
    # Every series exists once something happened: a message, a handoff, a translation.
    await client.post("/api/v1/messages", json={"sender": "c1", "text": "/human"})
    exposed = {name for name, _ in await scraped(client)}
    exposed |= {f"tolk_translator_call_duration_seconds_{part}" for part in ("bucket", "count")}
    exposed.add("tolk_translation_memory_lookups_total")
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:tolk|process)_[a-z_]+", target["expr"])
    }
    assert len(asked) >= 10
    assert asked <= exposed, asked - exposed
