"""One real stack (action server, Rasa, bot) shared by the e2e modules.

test_outages.py stops processes and starts them again when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from scripts.stack import MODEL, Ports, Stack
from tests.mail_server import smtp_inbox
from tests.texts import said
from tests.translation_server import FakeLibreTranslate


def answer(key: str, language: str) -> str:
    """The catalogue text a customer should see, placeholders filled."""
    return said(key, language)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def health(url: str, admin_token: str) -> tuple[int, dict]:
    """/healthz with the details only the admin token gets (which part is down)."""
    request = urllib.request.Request(
        f"{url}/healthz", headers={"Authorization": f"Bearer {admin_token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# Another offset lets two checkouts (or two people) run the e2e tests at once.
PORT_OFFSET = int(os.environ.get("TOLK_E2E_PORT_OFFSET", "0"))
TRANSLATOR_PORT = 15000 + PORT_OFFSET
SMTP_PORT = 15025 + PORT_OFFSET
AGENT_TIMEOUT = 4


@pytest.fixture(scope="session")
def translator():
    """A LibreTranslate-compatible server on loopback, in a thread of the test process."""
    fake = FakeLibreTranslate()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(fake.app())
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", TRANSLATOR_PORT).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield fake
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


# What every e2e stack runs with (test_faults.py's too).
E2E_ENV = {
    "TOLK_TRANSLATOR": "libre",
    "TOLK_TRANSLATOR_URL": f"http://127.0.0.1:{TRANSLATOR_PORT}/",
    "TOLK_SWEEP_SECONDS": "0.5",
    # Messages kept while Rasa was down are retried every second (doubling), long
    # enough for test_outages.py to start Rasa again before a person takes over.
    "TOLK_RETRY_SECONDS": "1",
    "TOLK_RETRY_ATTEMPTS": "12",
    # Every test talks from 127.0.0.1 and starts new conversations: per-address limits
    # would stop the session half way. Per sender, the defaults stay on.
    "TOLK_RATE_PER_ADDRESS": "100000/10s",
    "TOLK_RATE_READS_PER_ADDRESS": "100000/10s",
    "TOLK_RATE_NEW_CONVERSATIONS": "100000/10m",
    # Senders are random per run: no NPS sample, so that every rating asked is CSAT.
    "TOLK_NPS_SAMPLE": "0",
}


@pytest.fixture(scope="session")
def inbox():
    with smtp_inbox(SMTP_PORT) as box:
        yield box


@pytest.fixture(scope="session")
def stack(tmp_path_factory, translator, inbox):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    workdir = Path(tmp_path_factory.mktemp("stack"))
    env = {
        **E2E_ENV,
        # Agents count as gone after AGENT_TIMEOUT seconds without a sign of life.
        "TOLK_AGENT_TIMEOUT": str(AGENT_TIMEOUT),
        # "Continue by e-mail" mails through the inbox above.
        "TOLK_SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}?starttls=0",
        "TOLK_EMAIL_FROM": "support@shop.example",
    }
    stack = Stack(
        Ports(rasa=15005 + PORT_OFFSET, actions=15055 + PORT_OFFSET, bot=18080 + PORT_OFFSET),
        workdir,
        env=env,
    )
    try:
        stack.start(timeout=300)
    except RuntimeError:
        stack.stop()
        raise
    yield stack
    stack.stop()


def add_agent(
    stack,
    name: str,
    languages: str,
    *,
    limit: int = 3,
    password: str | None = None,
    lead: bool = False,
) -> str:
    """Creates an agent in the stack's database with the real command; their API token."""
    command = [sys.executable, "-m", "bot", "agents", "add", "--name", name,
               "--languages", languages, "--max-tickets", str(limit)]  # fmt: skip
    command += ["--lead"] if lead else []
    result = subprocess.run(
        [*command, "--password-stdin"] if password else command,
        env={**os.environ, "TOLK_DATABASE_URL": f"sqlite:///{stack.workdir / 'tolk.db'}"},
        input=f"{password}\n" if password else None,
        capture_output=True,
        text=True,
        check=True,
    )
    token_line = next(line for line in result.stdout.splitlines() if "API token" in line)
    return token_line.rsplit(" ", 1)[1]


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic would only hit this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium_page(**options):
    """A page in Debian's chromium (never a browser downloaded by a test tool)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(**options)
        finally:
            browser.close()


def agent_call(stack, token: str, method: str, path: str, body: dict | None = None):
    """(status, JSON) of an agent API call."""
    request = urllib.request.Request(
        f"{stack.bot_url}/api/v1/agent{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def messages_of(stack, sender: str) -> list[dict]:
    url = f"{stack.bot_url}/api/v1/conversations/{urllib.parse.quote(sender)}/messages"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["messages"]
