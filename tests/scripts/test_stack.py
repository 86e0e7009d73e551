"""`make run`'s launcher behaves like a service: its ports from the documented variables,
everything stopped within 10 s however it is asked, a taken port named with its owner.

Real processes throughout, but cheap ones: stand-ins that ignore SIGTERM, as the action
server did, instead of Rasa (the e2e suite starts the real stack).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts.stack import (
    ROOT,
    STOP_SECONDS,
    Ports,
    Stack,
    StackError,
    Stopped,
    busy,
    listeners,
)
from tests.scripts.dummy_stack import DummyStack
from tolk_core.project import RASA_BIN

SECRETS = {
    "TOLK_RASA_SECRET": "rasa-secret-0123456789",
    "TOLK_ACTIONS_SECRET": "actions-secret-0123456789",
    "TOLK_NLG_SECRET": "nlg-secret-0123456789",
    "TOLK_ADMIN_TOKEN": "admin-token-0123456789",
}


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- ports -----------------------------------------------------------------------------


def test_the_documented_port_variables_are_honoured(tmp_path):
    # Before: `TOLK_PORT=18080 make run` served on 8080 (the launcher used fixed ports).
    env = {"TOLK_PORT": "18080", "TOLK_RASA_PORT": "15015", "TOLK_ACTIONS_PORT": "15065"}
    stack = Stack.from_env({**env, **SECRETS}, tmp_path)
    assert stack.ports == Ports(rasa=15015, actions=15065, bot=18080)
    assert stack.bot_url == "http://127.0.0.1:18080"
    stack.secrets = SECRETS
    plan = stack.plan()
    actions, rasa, bot = plan["actions"], plan["rasa"], plan["bot"]
    assert actions[0][-2:] == ["--port", "15065"]
    assert rasa[0][rasa[0].index("-p") + 1] == "15015"
    assert bot[1]["TOLK_PORT"] == "18080"
    assert bot[1]["TOLK_RASA_URL"] == "http://127.0.0.1:15015"
    assert bot[1]["TOLK_ACTIONS_URL"] == "http://127.0.0.1:15065"


def test_the_checkout_stays_importable_whatever_pythonpath_says(tmp_path):
    stack = Stack.from_env({"PYTHONPATH": "/elsewhere"}, tmp_path)
    for _command, env in stack.plan().values():
        assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT), "/elsewhere"]


def test_defaults_without_variables(tmp_path):
    assert Stack.from_env({}, tmp_path).ports == Ports(rasa=5005, actions=5055, bot=8080)


@pytest.mark.parametrize(
    "env, named",
    [
        ({"TOLK_PORT": "eighty"}, "TOLK_PORT must be a port number"),
        ({"TOLK_RASA_PORT": "70000"}, "TOLK_RASA_PORT must be a port number"),
        ({"TOLK_ACTIONS_PORT": "-1"}, "TOLK_ACTIONS_PORT must be a port number"),
        ({"TOLK_PORT": "5005"}, "TOLK_RASA_PORT and TOLK_PORT are both 5005"),
    ],
)
def test_unusable_ports_are_named(tmp_path, env, named):
    with pytest.raises(StackError, match=named):
        Stack.from_env(env, tmp_path)


def test_rasa_reads_the_ports_and_secrets_from_endpoints_yml(tmp_path):
    """Rasa's own reader, in Rasa's environment as the launcher builds it."""
    stack = Stack(Ports(rasa=15015, actions=15065, bot=18080), tmp_path, env=SECRETS)
    stack.secrets = SECRETS
    command, env = stack.plan()["rasa"]
    assert "TOLK_ADMIN_TOKEN" not in env  # Rasa has no business with the operators' token
    endpoints = command[command.index("--endpoints") + 1]
    read = (
        "import json, sys; from rasa.utils.endpoints import read_endpoint_config as r; "
        "e = {k: r(sys.argv[1], k) for k in ('action_endpoint', 'nlg', 'tracker_store', "
        "'lock_store')}; "
        "c = __import__('rasa.shared.utils.io').shared.utils.io.read_config_file(sys.argv[2]); "
        "print(json.dumps({**{k: [v.url, v.headers, v.kwargs] for k, v in e.items()}, "
        "'credentials': c}))"
    )
    credentials = command[command.index("--credentials") + 1]
    result = subprocess.run(
        [str(RASA_BIN / "python"), "-W", "ignore", "-c", read, endpoints, credentials],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["action_endpoint"][:2] == [
        "http://127.0.0.1:15065/webhook",
        {"Authorization": "Bearer actions-secret-0123456789"},
    ]
    assert config["nlg"][:2] == [
        "http://127.0.0.1:18080/nlg",
        {"Authorization": "Bearer nlg-secret-0123456789"},
    ]
    assert config["tracker_store"][0] == f"sqlite:///{tmp_path / 'rasa-tracker.db'}"
    assert config["credentials"] == {
        "rasa_channels.gateway.GatewayInput": {"secret": "rasa-secret-0123456789"}
    }
    assert config["lock_store"][0] == ""  # in memory: no Redis unless TOLK_REDIS_URL


def test_a_redis_url_makes_rasas_lock_store_redis(tmp_path):
    """Rasa's RedisLockStore takes host, port, db and password, not a URL."""
    env = {**SECRETS, "TOLK_REDIS_URL": "redis://:p%40ss@10.0.0.7:6390/2"}
    stack = Stack(Ports(rasa=15015, actions=15065, bot=18080), tmp_path, env=env)
    stack.secrets = SECRETS
    _, rasa_env = stack.plan()["rasa"]
    wanted = {
        "TOLK_RASA_LOCK_STORE": "redis",
        "TOLK_RASA_REDIS_HOST": "10.0.0.7",
        "TOLK_RASA_REDIS_PORT": "6390",
        "TOLK_RASA_REDIS_DB": "2",
        "TOLK_RASA_REDIS_PASSWORD": "p@ss",
    }
    assert rasa_env.items() >= wanted.items()
    stack.env["TOLK_REDIS_URL"] = "http://10.0.0.7"
    with pytest.raises(StackError, match="TOLK_REDIS_URL"):
        stack.plan()


def test_a_given_tracker_url_reaches_rasa_and_the_bot(tmp_path):
    url = "postgresql://rasa:pw@db.internal:5432/tracker"
    stack = Stack(Ports(), tmp_path, env={**SECRETS, "TOLK_TRACKER_URL": url})
    stack.secrets = SECRETS
    plan = stack.plan()
    assert plan["rasa"][1]["TOLK_TRACKER_URL"] == plan["bot"][1]["TOLK_TRACKER_URL"] == url


def test_the_scaled_profile_runs_two_of_each_on_shared_stores(tmp_path):
    env = {
        **SECRETS,
        "TOLK_DATABASE_URL": "postgresql://tolk:pw@127.0.0.1:15433/tolk",
        "TOLK_REDIS_URL": "redis://127.0.0.1:16380/0",
    }
    stack = Stack(Ports(rasa=15015, actions=15065, bot=18080), tmp_path, env=env, replicas=2)
    stack.secrets = SECRETS
    plan = stack.plan()
    assert list(plan) == ["actions", "actions2", "rasa", "rasa2", "bot", "bot2"]
    assert plan["actions2"][0][-1] == "15066" and plan["rasa2"][0][-1] == "15016"
    # Each Rasa calls its own action server and renders through its own gateway...
    assert (plan["rasa"][1]["TOLK_ACTIONS_PORT"], plan["rasa2"][1]["TOLK_ACTIONS_PORT"]) == (
        "15065", "15066"
    )  # fmt: skip
    assert (plan["rasa"][1]["TOLK_PORT"], plan["rasa2"][1]["TOLK_PORT"]) == ("18080", "18081")
    # ...and each gateway spreads over both Rasas, on the same database and Redis.
    for bot in ("bot", "bot2"):
        assert plan[bot][1]["TOLK_RASA_URL"] == "http://127.0.0.1:15015,http://127.0.0.1:15016"
        assert plan[bot][1]["TOLK_DATABASE_URL"] == env["TOLK_DATABASE_URL"]
    assert plan["bot2"][1]["TOLK_PORT"] == "18081"
    assert stack.bot_urls == ["http://127.0.0.1:18080", "http://127.0.0.1:18081"]

    on_sqlite = Stack(Ports(), tmp_path, env=dict(SECRETS), replicas=2)
    with pytest.raises(StackError, match="PostgreSQL"):
        on_sqlite.start()
    assert on_sqlite.processes == {}


# --- a port already taken --------------------------------------------------------------


@pytest.fixture
def squatter():
    """Another process listening on a port, as a Tolk left running would."""
    port = free_port()
    code = (
        "import socket, sys, time; s = socket.socket(); "
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); print('up', flush=True); "
        "time.sleep(600)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), "stray-tolk-marker"], stdout=subprocess.PIPE
    )
    assert process.stdout.readline().strip() == b"up"
    yield port, process
    process.kill()
    process.wait()


def test_a_taken_port_is_named_with_its_process(squatter):
    # Before: "bot port 8080 already in use: is Tolk (or another server) running?"
    port, process = squatter
    owners = listeners(port)
    assert [pid for pid, _ in owners] == [process.pid]
    assert "stray-tolk-marker" in owners[0][1]
    (problem,) = busy(Ports(rasa=free_port(), actions=free_port(), bot=port))
    assert f"port {port} (bot, TOLK_PORT) is taken by pid {process.pid}" in problem
    assert "stray-tolk-marker" in problem
    assert f"kill {process.pid}" in problem and f"TOLK_PORT={port + 1} make run" in problem


def test_start_refuses_before_starting_anything(squatter, tmp_path):
    port, process = squatter
    stack = Stack(Ports(rasa=port, actions=free_port(), bot=free_port()), tmp_path)
    with pytest.raises(StackError, match=f"TOLK_RASA_PORT.*pid {process.pid}"):
        stack.start()
    assert stack.processes == {}


def test_make_runs_port_check_names_the_owner(squatter):
    port, process = squatter
    result = subprocess.run(
        [sys.executable, "-m", "scripts.stack", "--check-ports"],
        env={**os.environ, "TOLK_ACTIONS_PORT": str(port), "TOLK_PORT": str(free_port()),
             "TOLK_RASA_PORT": str(free_port())},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"(actions, TOLK_ACTIONS_PORT) is taken by pid {process.pid}" in result.stderr


def test_free_ports_pass_the_check():
    env = {"TOLK_PORT": str(free_port()), "TOLK_RASA_PORT": str(free_port())}
    env["TOLK_ACTIONS_PORT"] = str(free_port())
    result = subprocess.run(
        [sys.executable, "-m", "scripts.stack", "--check-ports"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- stopping --------------------------------------------------------------------------


def started(stack: DummyStack) -> list[int]:
    for name, (command, env) in stack.plan().items():
        stack.spawn(name, command, {**os.environ, **env})
    stack.wait_healthy(30)
    files = [stack.workdir / f"{name}.grandchild" for name in stack.processes]
    return [p.pid for p in stack.processes.values()] + [int(f.read_text()) for f in files]


def test_stop_escalates_to_sigkill_within_10_seconds(tmp_path, capsys):
    # Before: one process after the other, 20 s each before SIGKILL, grandchildren left.
    stack = DummyStack(Ports(), tmp_path)
    pids = started(stack)
    begin = time.monotonic()
    killed = stack.stop()
    took = time.monotonic() - begin
    assert sorted(killed) == ["actions", "bot", "rasa"]
    assert STOP_SECONDS <= took < 10, took
    assert wait_gone(pids, 1) == []


def test_processes_that_obey_sigterm_stop_at_once(tmp_path):
    stack = Stack(Ports(), tmp_path, stop_seconds=STOP_SECONDS)
    for name in ("actions", "rasa", "bot"):
        stack.spawn(name, [sys.executable, "-c", "import time; time.sleep(600)"], dict(os.environ))
    time.sleep(0.3)
    begin = time.monotonic()
    assert stack.stop() == []
    assert time.monotonic() - begin < 2


def launcher(tmp_path: Path, stop_seconds: float) -> tuple[subprocess.Popen, list[int]]:
    """`python -m scripts.stack`'s foreground loop over the stand-ins; (it, their pids)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.scripts.dummy_stack", str(tmp_path), str(stop_seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as `make run` in a terminal
    )
    for line in process.stdout:
        if line.startswith("pids "):
            return process, [int(pid) for pid in line.split()[1:]]
    raise AssertionError(f"the launcher exited with {process.wait()}")


@pytest.mark.parametrize(
    "how",
    ["SIGTERM to the launcher", "Ctrl-C in the terminal", "SIGKILL to the launcher"],
)
def test_the_launcher_leaves_nothing_behind(tmp_path, how):
    # Before: Ctrl-C or SIGTERM on `make run` left the action server running.
    process, pids = launcher(tmp_path, stop_seconds=1.0)
    assert all(alive(pid) for pid in pids)
    begin = time.monotonic()
    if how == "SIGTERM to the launcher":
        process.send_signal(signal.SIGTERM)  # what `make` passes on when it gets SIGTERM
    elif how == "Ctrl-C in the terminal":
        os.killpg(process.pid, signal.SIGINT)  # the terminal signals the foreground group
    else:
        process.kill()
    process.wait(timeout=10)
    # Children are killed with the launcher (PR_SET_PDEATHSIG); grandchildren by group.
    left = wait_gone(
        pids[:3] if how.startswith("SIGKILL") else pids, 10 - (time.monotonic() - begin)
    )
    assert left == [], f"still running after {how}: {left}"
    assert time.monotonic() - begin < 10
    if not how.startswith("SIGKILL"):
        assert process.returncode == 0
        assert process.stdout.read().splitlines()[-1] == "stopped"
    for pid in pids:  # what SIGKILL to the launcher could not reach: the grandchildren
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigterm_to_make_run_stops_everything(tmp_path):
    # Before: make dies of the SIGTERM without passing it on; the launcher and all three
    # processes went on running.
    make = shutil.which("make")
    assert make, "make is needed for `make run`"
    (tmp_path / "Makefile").write_text(
        f"run:\n\tcd {ROOT} && {sys.executable} -m tests.scripts.dummy_stack {tmp_path} 1\n"
    )
    process = subprocess.Popen(
        [make, "-s", "-C", str(tmp_path), "run"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = next(line for line in process.stdout if line.startswith("pids "))
    pids = [int(pid) for pid in line.split()[1:]]
    begin = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    assert wait_gone(pids, 10) == []
    assert time.monotonic() - begin < 10


class SlowToStart(DummyStack):
    """The stand-ins, waited for as the real stack is: until the bot answers (never)."""

    wait_healthy = Stack.wait_healthy


def test_ctrl_c_while_starting_stops_what_started(tmp_path):
    # Before: Rasa takes half a minute to load, and a Ctrl-C meanwhile left all running.
    stack = SlowToStart(Ports(rasa=free_port(), actions=free_port(), bot=free_port()), tmp_path)
    stack.stop_seconds = 0.5
    timer = threading.Timer(1.5, stack.request_stop)  # what the signal handler calls
    timer.start()
    with pytest.raises(Stopped):
        stack.start()
    timer.join()
    files = [tmp_path / f"{name}.grandchild" for name in ("actions", "rasa", "bot")]
    pids = [p.pid for p in stack.processes.values()] + [int(f.read_text()) for f in files]
    assert len(pids) == 6
    assert wait_gone(pids, 2) == []
