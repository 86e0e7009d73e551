"""One real stack (action server, Rasa, bot) shared by the e2e modules.

Modules run in file order; test_outages.py stops processes and so comes last.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.catalogue import Catalogue, fill
from bot.settings import PROJECT_ROOT
from scripts.stack import MODEL, Ports, Stack

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


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    workdir = Path(tmp_path_factory.mktemp("stack"))
    stack = Stack(Ports(rasa=15005, actions=15055, bot=18080), workdir)
    try:
        stack.start(timeout=300)
    except RuntimeError:
        stack.stop()
        raise
    yield stack
    stack.stop()
