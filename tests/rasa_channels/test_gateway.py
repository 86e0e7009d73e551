"""Rasa's REST channel answers the gateway only: credentials.yml loaded as `rasa run` does,
in a process of its own, called over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from scripts.stack import ROOT
from tests.scripts.test_actions_server import call
from tests.scripts.test_stack import free_port

SECRET = "rasa-secret-for-the-tests-0123"


@pytest.fixture(scope="module")
def rasa_channel():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-m", "tests.rasa_channels.serve_gateway", str(port)],
        cwd=ROOT,
        env={**os.environ, "TOLK_RASA_SECRET": SECRET, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/webhooks/rest"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            if call(f"{url}/", timeout=2)[0] == 200:
                break
        except OSError:
            time.sleep(0.3)
    yield url
    process.kill()
    process.wait()


MESSAGE = {"sender": "telegram-12345", "message": "cancel my order", "metadata": {}}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-secret-at-all"}, {"Authorization": SECRET}],
    ids=["none", "wrong", "no-scheme"],
)
def test_a_message_posted_straight_to_rasa_is_refused(rasa_channel, headers):
    # Before: anyone (a web page in a browser on this machine too) could post as any sender.
    status, body, _ = call(f"{rasa_channel}/webhook", MESSAGE, headers)
    assert status == 401 and "TOLK_RASA_SECRET" in body["error"]


def test_the_gateway_with_the_secret_is_served(rasa_channel):
    status, body, _ = call(
        f"{rasa_channel}/webhook", MESSAGE, {"Authorization": f"Bearer {SECRET}"}
    )
    assert status == 200
    assert body == [{"recipient_id": "telegram-12345", "text": "echo cancel my order"}]


def test_the_channel_status_stays_open(rasa_channel):
    assert call(f"{rasa_channel}/")[:2] == (200, {"status": "ok"})
