"""`python -m bot bench --full` against two small aiohttp servers standing in for the
gateway and Rasa: how it drives conversations, its figures and its last line. No real
stack (the real run is in the README and the closing note of issue 13)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tolk_tools import full_bench
from tolk_tools.full_bench import (
    BenchError,
    Round,
    compare,
    figures,
    gateway_target,
    make_scaled_stack,
    parse_conversations,
    percentile,
    rasa_target,
    round_order,
    run_full,
    summary_line,
)

SECRET = "rasa-secret-for-the-bench-test"
REQUIRED = (
    "full_p50_ms",
    "bare_p50_ms",
    "full_msgs_per_s",
    "bare_msgs_per_s",
    "throughput_ratio",
    "conversations",
)


class Fakes:
    """A gateway that takes 8 ms a message and a Rasa that takes 1 ms, both recording."""

    def __init__(self, gateway_status: int = 200, on_gateway=None) -> None:
        self.gateway_status = gateway_status
        self.on_gateway = on_gateway
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_in_flight = 0
        self.bodies: dict[str, list[dict]] = {"full": [], "bare": []}
        self.refused = 0

    async def _one_at_a_time(self, sender: str, seconds: float) -> None:
        self.in_flight[sender] += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight[sender])
        await asyncio.sleep(seconds)
        self.in_flight[sender] -= 1

    async def gateway(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies["full"].append(body)
        if self.on_gateway is not None:
            self.on_gateway()
        await self._one_at_a_time(body["sender"], 0.008)
        return web.json_response(
            {"sender": body["sender"], "messages": [{"text": "ok"}], "handoff": False},
            status=self.gateway_status,
        )

    async def rasa(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {SECRET}":
            self.refused += 1
            return web.json_response({"error": "gateway only"}, status=401)
        body = await request.json()
        self.bodies["bare"].append(body)
        await self._one_at_a_time(body["sender"], 0.001)
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])

    def apps(self) -> tuple[web.Application, web.Application]:
        gateway = web.Application()
        gateway.router.add_post("/api/v1/messages", self.gateway)
        rasa = web.Application()
        rasa.router.add_post("/webhooks/rest/webhook", self.rasa)
        return gateway, rasa


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def servers():
    fakes = Fakes()
    gateway, rasa = fakes.apps()
    (gateway_runner, gateway_port), (rasa_runner, rasa_port) = (
        await _serve(gateway),
        await _serve(rasa),
    )
    yield fakes, f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{rasa_port}"
    await gateway_runner.cleanup()
    await rasa_runner.cleanup()


async def test_both_paths_get_the_same_conversations_one_message_at_a_time(servers) -> None:
    fakes, gateway_url, rasa_url = servers
    lines: list[str] = []
    results = await compare(
        gateway_target(gateway_url), rasa_target(rasa_url, SECRET), [1, 3], 4, out=lines.append
    )

    assert fakes.refused == 0
    assert fakes.most_in_flight == 1  # never two messages of one conversation at once
    warm = 5 * 3  # every language, 3 messages, per path
    measured = 2 * (1 + 3) * 4  # two rounds of each N, 4 messages a conversation
    assert len(fakes.bodies["full"]) == len(fakes.bodies["bare"]) == warm + measured
    # The same texts in the same languages on both paths, a new sender per conversation.
    assert sorted(b["text"] for b in fakes.bodies["full"]) == sorted(
        b["message"] for b in fakes.bodies["bare"]
    )
    assert {b["metadata"]["language"] for b in fakes.bodies["bare"]} == set(full_bench.TEXTS)
    senders = [b["sender"] for b in fakes.bodies["full"]]
    assert len(set(senders)) == 5 + 2 * (1 + 3)
    assert all(senders.count(sender) in (3, 4) for sender in senders)

    assert [r["conversations"] for r in results] == [1, 3]
    for result in results:
        assert result["full_messages"] == result["bare_messages"] == 2 * result["conversations"] * 4
        assert result["full_errors"] == result["bare_errors"] == 0
        # 8 ms against 1 ms: the gateway stand-in is the slower one.
        assert result["full_p50_ms"] > result["bare_p50_ms"] >= 1
        assert result["full_p95_ms"] >= result["full_p50_ms"]
        assert result["full_msgs_per_s"] < result["bare_msgs_per_s"]
        assert result["throughput_ratio"] == pytest.approx(
            result["full_msgs_per_s"] / result["bare_msgs_per_s"], rel=0.01
        )
    assert lines[0].startswith("1 conversation(s) x 4 messages, 2 rounds per path")
    assert "order full, bare, bare, full" in lines[0]
    assert any("order bare, full, full, bare" in line for line in lines)


def test_the_last_line_is_one_json_object_with_the_keys_for_one_or_several_runs() -> None:
    def run(n: int) -> dict:
        return full_bench.run_result(
            n, 12, figures([Round([0.2, 0.1], 1.0, 0)]), figures([Round([0.1, 0.05], 0.5, 0)])
        )

    one = json.loads(summary_line([run(10)], bench="full"))
    assert all(key in one for key in REQUIRED)
    assert one["conversations"] == 10 and one["runs"] == [run(10)]
    assert one["throughput_ratio"] == 0.5 and one["p50_overhead_ms"] == pytest.approx(75.0)

    several = json.loads(summary_line([run(1), run(10), run(50)], bench="full"))
    assert [r["conversations"] for r in several["runs"]] == [1, 10, 50]
    assert all(key in r for r in several["runs"] for key in REQUIRED)
    assert "\n" not in summary_line([run(1), run(10)])


def test_percentiles_and_throughput() -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile(values, 0.95) == 0.095
    assert percentile([0.3], 0.95) == 0.3
    path = figures([Round(values[:50], 2.0, 1), Round(values[50:], 3.0, 0)])
    assert path.messages == 100 and path.errors == 1
    assert path.p50_ms == pytest.approx(50.5) and path.p95_ms == pytest.approx(95.0)
    assert path.msgs_per_s == pytest.approx(20.0)  # 100 messages in 5 s of wall time


def test_cpu_per_message_by_kind_of_process() -> None:
    rounds = [
        Round([0.1] * 10, 1.0, 0, {"bot": 0.08, "rasa": 0.2}),
        Round([0.1] * 30, 2.0, 0, {"bot": 0.32, "rasa": 0.6, "actions": 0.04}),
    ]
    path = figures(rounds)
    # 40 messages: 0.4 s of the gateway's CPU is 10 ms each.
    assert path.cpu_ms_per_msg == {"actions": 1.0, "bot": 10.0, "rasa": 20.0}
    result = full_bench.run_result(1, 40, path, figures([Round([0.1] * 40, 3.0, 0)]))
    assert result["full_cpu_ms_per_msg"]["bot"] == 10.0 and result["bare_cpu_ms_per_msg"] == {}
    lines = full_bench.table(result, ["full", "bare"])
    assert "  full CPU ms per message: actions 1.0, bot 10.0, rasa 20.0" in lines
    assert not any(line.startswith("  bare CPU") for line in lines)  # nothing measured


def test_the_cpu_clock_reads_the_stacks_processes() -> None:
    @dataclass
    class Process:
        pid: int

    gone = Process(2**22 + 1)  # above any pid_max: no such process
    stack = type("S", (), {"processes": {"bot": Process(os.getpid()), "bot2": gone}})()
    clock = full_bench.stack_clock(stack)
    assert clock is not None and full_bench.stack_clock(object()) is None
    before = clock()
    deadline = os.times().elapsed + 0.3
    while os.times().elapsed < deadline:  # burn CPU in this process, the "bot"
        sum(range(1000))
    after = clock()
    assert set(after) == {"bot"}  # replicas count under their kind
    assert after["bot"] - before["bot"] >= 0.1
    assert full_bench.process_cpu_seconds(gone.pid) == 0.0


def test_rounds_alternate_abba() -> None:
    assert round_order(0) == ["full", "bare", "bare", "full"]
    assert round_order(1) == ["bare", "full", "full", "bare"]


@pytest.mark.parametrize("raw", ["", "0", "1,x", "-3", "1,,0"])
def test_bad_conversation_counts_are_refused(raw: str) -> None:
    with pytest.raises(BenchError):
        parse_conversations(raw)
    assert parse_conversations("1, 10,50") == [1, 10, 50]


@dataclass
class FakePorts:
    rasa: int = 0


@dataclass
class FakeStack:
    """Starts the two stand-ins on a loop in a thread, as the real stack starts processes."""

    workdir: Path
    fakes: Fakes = field(default_factory=Fakes)
    bot_url: str = ""
    ports: FakePorts = field(default_factory=FakePorts)
    secrets: dict[str, str] = field(default_factory=lambda: {"TOLK_RASA_SECRET": SECRET})
    stopped: bool = False

    def start(self, timeout: float = 0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        gateway, rasa = self.fakes.apps()
        self._runners = []
        for app, where in ((gateway, "bot"), (rasa, "rasa")):
            runner, port = asyncio.run_coroutine_threadsafe(_serve(app), self._loop).result(10)
            self._runners.append(runner)
            if where == "bot":
                self.bot_url = f"http://127.0.0.1:{port}"
            else:
                self.ports.rasa = port

    @property
    def bot_urls(self) -> list[str]:
        return [self.bot_url]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports.rasa}"]

    def stop(self, name: str | None = None) -> list[str]:
        for runner in self._runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self.stopped = True
        return []


def _run_with(fakes: Fakes, **options) -> tuple[int, list[str], FakeStack]:
    made: list[FakeStack] = []

    def factory(workdir: Path) -> FakeStack:
        made.append(FakeStack(workdir, fakes))
        return made[0]

    lines: list[str] = []
    status = run_full(("en", "nl"), stack_factory=factory, out=lines.append, **options)
    return status, lines, made[0]


def test_run_full_prints_the_json_last_and_stops_the_stack() -> None:
    status, lines, stack = _run_with(Fakes(), conversations="1,2", messages=2)
    assert status == 0
    assert stack.stopped
    last = json.loads(lines[-1])
    assert [r["conversations"] for r in last["runs"]] == [1, 2]
    assert last["languages"] == ["en", "nl"]
    assert all(key in last["runs"][0] for key in REQUIRED)
    # Only the configured languages were spoken.
    assert {b["metadata"]["language"] for b in stack.fakes.bodies["bare"]} == {"en", "nl"}


def test_an_unanswering_gateway_stops_the_run_and_the_stack(capsys) -> None:
    status, lines, stack = _run_with(Fakes(gateway_status=500), conversations="1", messages=1)
    assert status == 1
    assert stack.stopped
    assert "warm-up messages were not answered" in capsys.readouterr().err
    assert not lines[-1].startswith("{")


def test_sigterm_mid_run_stops_the_stack(capsys) -> None:
    sent = []

    def terminate_once() -> None:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    status, _, stack = _run_with(Fakes(on_gateway=terminate_once), conversations="1")
    assert status == 130
    assert stack.stopped
    assert "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before


def test_bad_arguments_start_nothing(capsys) -> None:
    def factory(workdir: Path) -> FakeStack:
        raise AssertionError("no stack for bad arguments")

    assert run_full(("en",), "0", stack_factory=factory) == 2
    assert run_full(("en",), "1", 0, stack_factory=factory) == 2
    assert "--messages" in capsys.readouterr().err


def test_the_scaled_profile_spreads_customers_and_keeps_each_on_one_replica() -> None:
    target = gateway_target("http://127.0.0.1:1", "http://127.0.0.1:2")
    chosen = {sender: target.url_for(sender) for sender in (f"bench-x-{n}" for n in range(40))}
    assert set(chosen.values()) == {
        "http://127.0.0.1:1/api/v1/messages",
        "http://127.0.0.1:2/api/v1/messages",
    }
    assert all(target.url_for(sender) == url for sender, url in chosen.items())
    assert gateway_target("http://127.0.0.1:1").url_for("anyone").endswith(":1/api/v1/messages")


def test_the_scaled_bench_asks_for_postgresql_and_redis(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TOLK_DATABASE_URL", raising=False)
    with pytest.raises(BenchError, match="TOLK_DATABASE_URL=postgresql"):
        make_scaled_stack(tmp_path)


# --- ports ------------------------------------------------------------------------------


def test_ports_are_free_in_pairs_and_outside_the_kernels_ephemeral_range():
    ports = full_bench.free_ports(3, width=2)
    assert len(ports) == 3
    assert all(port + 1 < full_bench._ephemeral_ports_start() for port in ports)
    assert len({*ports, *(port + 1 for port in ports)}) == 6  # no two pairs overlap
    for port in ports:
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", port))
            second.bind(("127.0.0.1", port + 1))


def test_a_port_with_a_taken_neighbour_is_passed_over(monkeypatch):
    # Below the ephemeral range, where no outgoing connection of a busy machine takes the
    # ports the test expects free (a port from bind(0) once had its +10 taken in CI).
    busy = next(
        port
        for port in range(20000, 30000, 20)
        if all(full_bench._bindable(each) for each in (port - 1, port, port + 10, port + 11))
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        proposals = iter([busy - 1, busy + 10])

        class Proposer:
            def randrange(self, start: int, stop: int) -> int:
                return next(proposals)

        monkeypatch.setattr(full_bench.random, "Random", Proposer)
        monkeypatch.setattr(full_bench, "_ephemeral_ports_start", lambda: 65536)
        assert full_bench.free_ports(1, width=2) == [busy + 10]
