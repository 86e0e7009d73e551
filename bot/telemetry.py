"""What `GET /metrics` exposes, in Prometheus' text format (prometheus-client).

Each app has its own registry (tests build many apps in one process; the library's global
registry would refuse the second). Labels only ever take values from fixed sets: the
route's template (never the path a client sent), a configured language or "other", a
registered channel, an outcome named here. A stranger can therefore not grow the
exposition with made-up values, however many requests they send.

Counters and histograms are per process: with several gateway replicas, Prometheus scrapes
each and sums them. The queue, ticket and agent gauges are read from the database when
scraped, so every replica reports the same shared figures (query them with `max`, not
`sum`).

Without TOLK_METRICS_TOKEN only a direct connection from this machine may read /metrics
(not one a proxy forwards); with it, a scraper sends
`Authorization: Bearer <token>` (Prometheus' `authorization` setting). Volumes per
language and channel are business figures a stranger has no business reading.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.appkeys import HANDOFF, SETTINGS, TELEMETRY
from bot.http_errors import json_error
from tolk_core.internal_secrets import bearer_matches

# Seconds; a customer waits on these, so the interesting part is 0.05–5 s.
_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OTHER = "other"
UNMATCHED = "unmatched"  # a path no route has: one label for all of them
_FORWARDING = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


class Telemetry:
    """The instruments, with methods named for what happened."""

    def __init__(
        self, native: Iterable[str], others: Iterable[str], channels: Iterable[str]
    ) -> None:
        """`native` languages always show in the queue gauge (0 when none wait); `others`
        (languages reached through the translator) when they have a queue."""
        self._native = tuple(native)
        self._languages = frozenset((*self._native, *others))
        self._channels = frozenset(channels)
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process
        PlatformCollector(registry=self.registry)
        registry = self.registry
        self._requests = Histogram(
            "tolk_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status.",
            ["method", "route", "status"],
            buckets=_LATENCY,
            registry=registry,
        )
        self._messages = Counter(
            "tolk_messages",
            "Customer messages handled, by channel, language and what became of them "
            "(answered, failed: kept for a retry, to_agent, unsupported, handoff).",
            ["channel", "language", "outcome"],
            registry=registry,
        )
        self._message_seconds = Histogram(
            "tolk_message_duration_seconds",
            "Time from a customer message reaching the gateway to its answer being ready.",
            ["channel"],
            buckets=_LATENCY,
            registry=registry,
        )
        self._handoffs = Counter(
            "tolk_handoffs",
            "Conversations handed to a person, by channel, language and reason.",
            ["channel", "language", "reason"],
            registry=registry,
        )
        self._rasa = Histogram(
            "tolk_rasa_request_duration_seconds",
            "Calls to Rasa's webhook, by outcome (ok, unavailable).",
            ["outcome"],
            buckets=_LATENCY,
            registry=registry,
        )
        self._translator = Histogram(
            "tolk_translator_call_duration_seconds",
            "Calls to the machine translator, by backend and outcome (ok, rejected, "
            "unavailable); retries are calls of their own.",
            ["backend", "outcome"],
            buckets=_LATENCY,
            registry=registry,
        )
        self._memory = Counter(
            "tolk_translation_memory_lookups",
            "Texts looked up in the translation memory, by result (hit, miss).",
            ["result"],
            registry=registry,
        )
        self._queued = Gauge(
            "tolk_queue_tickets",
            "Tickets waiting for an agent, by the customer's language.",
            ["language"],
            registry=registry,
        )
        self._assigned = Gauge(
            "tolk_assigned_tickets", "Tickets an agent has now.", registry=registry
        )
        self._breached = Gauge(
            "tolk_sla_breached_tickets",
            "Open tickets past their first-response SLA without an agent's reply.",
            registry=registry,
        )
        self._agents = Gauge(
            "tolk_agents_online", "Agents online and within their hours.", registry=registry
        )

    def language(self, code: str | None) -> str:
        return code if code in self._languages else OTHER

    def channel(self, name: str) -> str:
        return name if name in self._channels else OTHER

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).observe(seconds)

    def message(self, channel: str, language: str | None, outcome: str, seconds: float) -> None:
        channel = self.channel(channel)
        self._messages.labels(channel, self.language(language), outcome).inc()
        self._message_seconds.labels(channel).observe(seconds)

    def handoff(self, channel: str, language: str | None, reason: str) -> None:
        self._handoffs.labels(self.channel(channel), self.language(language), reason).inc()

    def rasa_call(self, outcome: str, seconds: float) -> None:
        self._rasa.labels(outcome).observe(seconds)

    def translator_call(self, backend: str, outcome: str, seconds: float) -> None:
        self._translator.labels(backend, outcome).observe(seconds)

    def memory_lookups(self, hits: int, misses: int) -> None:
        if hits:
            self._memory.labels("hit").inc(hits)
        if misses:
            self._memory.labels("miss").inc(misses)

    def load(self, queued: dict[str, int], assigned: int, breached: int, agents: int) -> None:
        """The shared figures, read from the database when scraped."""
        self._queued.clear()
        for language in self._native:
            self._queued.labels(language).set(0)
        for language, count in queued.items():
            self._queued.labels(self.language(language)).inc(count)
        self._assigned.set(assigned)
        self._breached.set(breached)
        self._agents.set(agents)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def route_of(request: web.Request) -> str:
    """The route's template ("/api/v1/agent/tickets/{id}"), never the path as sent."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def measure_requests(request: web.Request, handler) -> web.StreamResponse:
    """Outermost: it sees the status the client gets, errors mapped to JSON included."""
    start = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _observe(request, error.status, start)
        raise
    except BaseException:
        _observe(request, 500, start)
        raise
    # A websocket's "duration" is the connection's life, not an answer's latency.
    if not isinstance(response, web.WebSocketResponse):
        _observe(request, response.status, start)
    return response


def _observe(request: web.Request, status: int, start: float) -> None:
    telemetry = request.app[TELEMETRY]
    telemetry.request(request.method, route_of(request), status, time.perf_counter() - start)


async def metrics(request: web.Request) -> web.Response:
    if not _may_read(request):
        return json_error(
            401,
            "/metrics needs `Authorization: Bearer <TOLK_METRICS_TOKEN>` from another host "
            "(without TOLK_METRICS_TOKEN only this machine may read it)",
        )
    telemetry = request.app[TELEMETRY]
    load = await request.app[HANDOFF].load()
    telemetry.load(load.queued, load.assigned, load.breached, load.agents_online)
    response = web.Response(body=telemetry.exposition())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response


def _may_read(request: web.Request) -> bool:
    token = request.app[SETTINGS].metrics_token
    if token:
        return bearer_matches(request.headers.get("Authorization"), token)
    # A direct connection from this machine only: behind a reverse proxy on this machine
    # every stranger's request comes from loopback too, with the proxy's forwarding header.
    if any(header in request.headers for header in _FORWARDING):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:  # not an IP address (a unix socket has none): not provably local
        return False
