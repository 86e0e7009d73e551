"""1,500 random hostile requests to a real `python -m bot serve` (issue 10's finding).

What was found: such a run left the bot at full CPU, /healthz unanswered for minutes and
SIGTERM unhandled. Here the same kind of run, bounded in count, concurrency and time, on
loopback against fakes of Rasa, Telegram and a translator: no 5xx but a JSON 503, every
request answered, /healthz answering throughout and within a second afterwards, a normal
message still answered, and SIGTERM stopping the process within 10 s.

The figures (requests, 5xx, slowest request, /healthz while loaded) are printed at the
end of the test run. Bigger runs: TOLK_LOAD_REQUESTS=20000 TOLK_LOAD_CONCURRENCY=16.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REPORTS
from tests.fuzz.conftest import TELEGRAM_SECRET
from tests.fuzz.payloads import DEEP, MAX_TEXT, NASTY, RAW, REPEATED
from tests.fuzz.service import Fakes, Loopback
from tests.gateway_fixtures import NLG_SECRET
from tests.telegram_server import text_update
from tolk_core import internal_secrets

PROJECT = Path(__file__).resolve().parents[2]
REQUESTS = int(os.environ.get("TOLK_LOAD_REQUESTS", "1500"))
CONCURRENCY = int(os.environ.get("TOLK_LOAD_CONCURRENCY", "8"))
SEED = int(os.environ.get("TOLK_LOAD_SEED", "10"))
ANSWER_WITHIN = 10.0  # a request unanswered this long counts as a freeze
STOP_WITHIN = 10.0
HEALTH_WITHIN = 1.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path[:60]} ({len(self.body or b'')} bytes)"


@dataclass
class Outcome:
    request: Request
    status: int  # 0: no answer in time
    seconds: float
    json_body: bool


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# What a stranger sends ------------------------------------------------------------------


def hostile_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(NASTY)
    if kind == 1:
        unit = rng.choice(REPEATED)
        return unit * rng.randint(1, (MAX_TEXT + 1) // len(unit))
    if kind == 2:  # any code points, all scripts, controls and bidi included
        length = rng.choice([1, 10, 100, 1000, MAX_TEXT, MAX_TEXT + 1])
        return "".join(chr(rng.choice(_CODE_POINTS)) for _ in range(length))
    if kind == 3:
        return " ".join(rng.choice(NASTY) for _ in range(rng.randint(2, 40)))[: MAX_TEXT + 1]
    if kind == 4:
        return rng.choice(["\ud800", "a\udfffb", "\x00", "ok", "👍", " "])
    return "where is my order " + rng.choice(NASTY)


# Every script's block, controls, format characters and private use (no surrogates:
# hostile_text sends those on purpose, one kind at a time).
_CODE_POINTS = [
    point
    for start, end in [
        (0x0, 0x250),
        (0x370, 0x700),
        (0x900, 0xE00),
        (0x1E00, 0x2070),
        (0x2190, 0x2C00),
        (0x3000, 0x3100),
        (0x4E00, 0x4F00),
        (0xAC00, 0xAD00),
        (0xE000, 0xE100),
        (0xFB00, 0xFFFF),
        (0x1F300, 0x1FA00),
    ]
    for point in range(start, end)
]


def hostile_requests(count: int, rng: random.Random) -> Iterator[Request]:
    json_headers = {"Content-Type": "application/json"}
    update_ids = iter(range(10_000, 10_000 + count))
    for number in range(count):
        route = rng.randrange(10)
        text = hostile_text(rng)
        if route < 3:
            sender = rng.choice([f"load-{number % 97}", rng.choice(NASTY)[:128], "a/b", "x" * 129])
            body = {"sender": sender, "text": text}
            yield Request("POST", "/api/v1/messages", _json(body), json_headers)
        elif route < 5:
            yield Request("POST", "/chat/messages", _json({"text": text}), json_headers)
        elif route == 5:
            update = text_update(next(update_ids), 5_000_000 + number % 50, text)
            headers = {**json_headers, "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            yield Request("POST", "/telegram/webhook", _json(update), headers)
        elif route == 6:
            tracker = {
                "sender_id": f"load-{number % 97}",
                "slots": {"customer_name": text},
                "latest_message": {"text": text, "metadata": {"language": "fa"}},
            }
            body = {"response": rng.choice(["utter_greet", "utter_welcome_back", text[:50]])}
            headers = {**json_headers, "Authorization": f"Bearer {NLG_SECRET}"}
            yield Request("POST", "/nlg", _json({**body, "tracker": tracker}), headers)
        elif route == 7:
            path = f"/api/v1/conversations/load-{number % 97}/messages?after={rng.randint(0, 9)}"
            yield Request("GET", path)
        else:  # not JSON, too deep, too big, or the wrong type of content
            path = rng.choice(["/api/v1/messages", "/chat/messages", "/nlg", "/telegram/webhook"])
            body = rng.choice([*DEEP, *RAW, rng.randbytes(rng.randint(1, 300))])
            content_type = rng.choice(["application/json", "text/plain", "application/xml"])
            yield Request("POST", path, body, {"Content-Type": content_type})


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


# The service as a process ----------------------------------------------------------------


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    loopback = Loopback()
    try:
        yield Fakes(loopback)
    finally:
        loopback.close()


@pytest.fixture
def bot_process(tmp_path, fakes) -> Iterator[tuple[subprocess.Popen, str]]:
    port = _free_port()
    env = {
        **os.environ,
        "TOLK_HOST": "127.0.0.1",
        "TOLK_PORT": str(port),
        "TOLK_DATABASE_URL": f"sqlite:///{tmp_path / 'tolk.db'}",
        "TOLK_TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "TOLK_RASA_URL": fakes.urls.rasa,
        "TOLK_ACTIONS_URL": fakes.urls.rasa,
        "TOLK_TRANSLATOR": "libre",
        "TOLK_TRANSLATOR_URL": fakes.urls.translator,
        "TELEGRAM_TOKEN": fakes.telegram.token,
        "TELEGRAM_API_BASE_URL": fakes.urls.telegram,
        "TELEGRAM_WEBHOOK_URL": "https://shop.example/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        # One address sends everything, as fast as it can: the limits are lifted so that
        # every request reaches the work behind them (the limits have their own tests).
        "TOLK_RATE_PER_SENDER": "1000000/1s",
        "TOLK_RATE_PER_ADDRESS": "1000000/1s",
        "TOLK_RATE_READS_PER_ADDRESS": "1000000/1s",
        "TOLK_RATE_NEW_CONVERSATIONS": "1000000/1s",
        # Given, so that nothing is generated into the project's var/.
        **{variable: f"load-{variable.lower()}" for variable in internal_secrets.VARIABLES},
        internal_secrets.NLG_SECRET: NLG_SECRET,
    }
    # As make run does: the schema first, by one command (serve only checks it).
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=PROJECT,
        env=env,
        check=True,
        timeout=120,
    )
    log = (tmp_path / "bot.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, tmp_path / "bot.log")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the bot exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the bot did not start within 120 s:\n{log.read_text()[-3000:]}")


# The run -----------------------------------------------------------------------------


async def _send(session: aiohttp.ClientSession, url: str, request: Request) -> Outcome:
    start = time.perf_counter()
    try:
        async with session.request(
            request.method,
            url + request.path,
            data=request.body,
            headers=request.headers,
            timeout=aiohttp.ClientTimeout(total=ANSWER_WITHIN),
        ) as response:
            raw = await response.read()
            status = response.status
    except asyncio.TimeoutError:
        return Outcome(request, 0, time.perf_counter() - start, False)
    try:
        json.loads(raw)
        is_json = True
    except ValueError:
        is_json = False
    return Outcome(request, status, time.perf_counter() - start, is_json)


async def _load(url: str, requests: list[Request]) -> tuple[list[Outcome], list[float]]:
    """Send `requests` with CONCURRENCY in flight; meanwhile /healthz every 0.25 s."""
    pending = iter(requests)
    outcomes: list[Outcome] = []
    health: list[float] = []
    done = asyncio.Event()
    # Kept-alive connections, as clients use them (an answer given before the body was read
    # used to stall the next request on its connection for seconds); no cookie jar, so
    # that every web chat message is a new stranger.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def worker() -> None:
            for request in pending:
                outcomes.append(await _send(session, url, request))

        async def watch_health() -> None:
            while not done.is_set():
                health.append((await _send(session, url, Request("GET", "/healthz"))).seconds)
                await asyncio.sleep(0.25)

        watcher = asyncio.create_task(watch_health())
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        done.set()
        await watcher
    return outcomes, health


def test_hostile_requests_do_not_freeze_the_service(bot_process, tmp_path):
    process, url = bot_process
    requests = list(hostile_requests(REQUESTS, random.Random(SEED)))
    started = time.monotonic()
    outcomes, health = asyncio.run(_load(url, requests))
    duration = time.monotonic() - started

    after = asyncio.run(_after(url))
    stop_start = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_WITHIN)
        stopped_in = time.monotonic() - stop_start
    except subprocess.TimeoutExpired:
        stopped_in = None

    server_errors = [o for o in outcomes if o.status >= 500]
    unanswered = [o for o in outcomes if o.status == 0]
    slowest = max(outcomes, key=lambda o: o.seconds)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    REPORTS.append(
        f"hostile load: {len(outcomes)} requests ({CONCURRENCY} in flight, seed {SEED}) in "
        f"{duration:.1f} s to `python -m bot serve`: {len(server_errors)} 5xx, "
        f"{len(unanswered)} unanswered, slowest {slowest.seconds * 1000:.0f} ms "
        f"({slowest.request}); /healthz while loaded: worst {max(health) * 1000:.0f} ms over "
        f"{len(health)} probes, afterwards {after.health_seconds * 1000:.0f} ms; SIGTERM "
        f"stopped it in {f'{stopped_in:.1f} s' if stopped_in is not None else 'NOT 10 s'}; "
        f"statuses {', '.join(f'{code}: {n}' for code, n in sorted(statuses.items()))}"
    )

    log = (tmp_path / "bot.log").read_text(errors="replace")[-4000:]
    assert not unanswered, ([str(o.request) for o in unanswered[:5]], log)
    assert all(o.status == 503 and o.json_body for o in server_errors), [
        (o.status, str(o.request)) for o in server_errors[:5]
    ]
    assert all(o.json_body for o in outcomes), [
        (o.status, str(o.request)) for o in outcomes if not o.json_body
    ][:5]
    assert after.health_status == 200 and after.health_seconds < HEALTH_WITHIN
    assert "an answer" in after.normal_reply, after.normal_reply
    assert stopped_in is not None, f"SIGTERM did not stop the bot within 10 s:\n{log}"
    assert process.returncode == 0, process.returncode


@dataclass
class After:
    health_status: int
    health_seconds: float
    normal_reply: list[str]


async def _after(url: str) -> After:
    async with aiohttp.ClientSession() as session:
        health = await _send(session, url, Request("GET", "/healthz"))
        async with session.post(
            url + "/api/v1/messages",
            json={"sender": "after-the-load", "text": "hello, where is my order?"},
            timeout=aiohttp.ClientTimeout(total=ANSWER_WITHIN),
        ) as response:
            reply = [message["text"] for message in (await response.json())["messages"]]
    return After(health.status, health.seconds, reply)
