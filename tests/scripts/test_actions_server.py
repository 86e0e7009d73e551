"""The action server answers Rasa only (its secret), and stops when asked.

The real launcher (`python -m scripts.actions_server`, what `make run` starts) in a
process of its own, called over HTTP as a stranger and as Rasa would.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from actions.database import create_engine, create_schema
from actions.shop import seed_demo
from scripts.actions_server import STOP_SECONDS
from scripts.stack import ROOT
from tests.scripts.forged import forged_cancel
from tests.scripts.test_stack import free_port

SECRET = "actions-secret-for-the-tests-0123"


def call(url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 30):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "TOLK_DATABASE_URL": f"sqlite:///{tmp_path / 'tolk.db'}",
        "TOLK_ACTIONS_SECRET": SECRET,
        "TOLK_NLG_SECRET": "nlg-secret-for-the-tests-0123",
        "TOLK_ADMIN_TOKEN": "admin-token-for-the-tests-0123",
        "PYTHONPATH": str(ROOT),
    }
    # The child keeps its own copy of the file descriptor: ours is closed at once.
    with open(tmp_path / "actions.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.actions_server", "--port", str(port), *extra],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "actions.log").read_text()
        try:
            if call(f"{url}/health", timeout=2)[0] == 200:
                return process, url
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the action server did not start")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("actions")


@pytest.fixture(scope="module")
def seeded(workdir) -> Path:
    async def seed():
        engine = create_engine(f"sqlite:///{workdir / 'tolk.db'}")
        await create_schema(engine)
        await seed_demo(engine)
        await engine.dispose()

    asyncio.run(seed())
    return workdir / "tolk.db"


@pytest.fixture
def shop_db(seeded) -> Path:
    """The demo shop, its one cancellable order (10002) still processing."""
    with sqlite3.connect(seeded) as connection:
        connection.execute("update shop_orders set status = 'processing' where number = '10002'")
    return seeded


def status_of(db: Path, number: str) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "select status from shop_orders where number = ?", (number,)
        ).fetchone()[0]


@pytest.fixture(scope="module")
def server(workdir, seeded):
    process, url = start(workdir)
    yield url
    # After real work (the database pool has threads): SIGTERM ends it at once.
    begin = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    assert time.monotonic() - begin < 3


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-secret-of-some-length"},
        {"Authorization": SECRET},
        {"Authorization": f"Bearer {SECRET} "},
        {"token": SECRET},
    ],
    ids=["none", "wrong", "no-scheme", "trailing-space", "other-header"],
)
def test_a_forged_tracker_is_refused_without_the_secret(server, shop_db, headers):
    # Before (`rasa run actions`): 200, and order 10002 was cancelled for a stranger.
    assert status_of(shop_db, "10002") == "processing"
    status, body, _ = call(f"{server}/webhook", forged_cancel(), headers)
    assert status == 401
    assert "TOLK_ACTIONS_SECRET" in body["error"]
    assert status_of(shop_db, "10002") == "processing"


def test_the_same_call_from_rasa_with_the_secret_is_served(server, shop_db):
    # The tracker is trusted once the caller is Rasa: the secret is what guards the order.
    status, body, _ = call(
        f"{server}/webhook", forged_cancel(), {"Authorization": f"Bearer {SECRET}"}
    )
    assert status == 200 and "events" in body
    assert status_of(shop_db, "10002") == "cancelled"


def test_only_health_is_open(server):
    assert call(f"{server}/health")[:2] == (200, {"status": "ok"})
    assert call(f"{server}/actions")[0] == 401


def test_no_browser_origin_is_allowed(server):
    request = urllib.request.Request(
        f"{server}/webhook",
        method="OPTIONS",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            headers = dict(response.headers)
    except urllib.error.HTTPError as error:
        headers = dict(error.headers)
    assert "Access-Control-Allow-Origin" not in headers


def test_sigterm_stops_it_even_with_an_action_hanging(tmp_path):
    # Before: an action server that does not stop on SIGTERM outlived `make run`.
    process, url = start(tmp_path, "--actions", "tests.scripts.hanging_actions")
    hang = {**forged_cancel(), "next_action": "action_hang"}
    caller = threading.Thread(
        target=lambda: _ignore(
            call, f"{url}/webhook", hang, {"Authorization": f"Bearer {SECRET}"}, 60
        ),
        daemon=True,
    )
    caller.start()
    time.sleep(1.0)  # the action is running and holds the event loop
    begin = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=STOP_SECONDS + 3)
    assert time.monotonic() - begin < STOP_SECONDS + 1


def _ignore(function, *args):
    try:
        function(*args)
    except OSError:
        pass  # the server went away mid-request: that is the point
