"""One real stack (action server, Rasa, bot) shared by the e2e modules.

test_outages.py stops processes and starts them again when it is done.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from bot.catalogue import Catalogue, fill
from bot.settings import PROJECT_ROOT
from scripts.stack import MODEL, Ports, Stack
from tests.translation_server import FakeLibreTranslate

CATALOGUE = Catalogue.load(PROJECT_ROOT / "locales")
VARIABLES = {"support_email": "support@example.com"}


def answer(key: str, language: str) -> str:
    """The catalogue text a customer should see, placeholders filled."""
    return fill(CATALOGUE.get(key, language)[0].text, VARIABLES)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


TRANSLATOR_PORT = 15000


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


@pytest.fixture(scope="session")
def stack(tmp_path_factory, translator):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    workdir = Path(tmp_path_factory.mktemp("stack"))
    env = {
        "TOLK_TRANSLATOR": "libre",
        "TOLK_TRANSLATOR_URL": f"http://127.0.0.1:{TRANSLATOR_PORT}/",
    }
    stack = Stack(Ports(rasa=15005, actions=15055, bot=18080), workdir, env=env)
    try:
        stack.start(timeout=300)
    except RuntimeError:
        stack.stop()
        raise
    yield stack
    stack.stop()
