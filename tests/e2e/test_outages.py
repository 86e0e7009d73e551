"""Parts of the stack stopped mid-run: the customer still hears something, nothing is lost.

The stopped processes are started again when this module is done, for the modules after it.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import answer, health, post

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def revive_afterwards(stack):
    yield
    stack.revive()


def test_action_server_down_is_reported_and_the_customer_hears_so(stack):
    stack.stop("actions")
    status, body = health(stack.bot_url)
    assert status == 503 and body["down"] == ["actions"]
    reply = post(stack.bot_url, {"sender": "e2e-noactions", "text": "zzxq vrrk plimf"})
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "en")


def test_rasa_down_apologises_in_language_and_keeps_the_message(stack):
    stack.stop("rasa")
    status, body = health(stack.bot_url)
    assert status == 503 and "rasa" in body["down"]
    reply = post(stack.bot_url, {"sender": "e2e-fa-down", "text": "سلام، سفارش من کجاست؟"})
    assert reply["language"] == "fa"
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "fa")
    with urllib.request.urlopen(
        f"{stack.bot_url}/api/v1/conversations/e2e-fa-down/messages", timeout=10
    ) as response:
        stored = json.loads(response.read())["messages"]
    assert stored[0] == {**stored[0], "from": "customer", "text": "سلام، سفارش من کجاست؟"}
