"""Parts of the stack stopped mid-run: the customer still hears something, nothing is lost.

The stopped processes are started again when this module is done, for the modules after it.
"""

from __future__ import annotations

import json
import time
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
    status, body = health(stack.bot_url, stack.admin_token)
    assert status == 503 and body["down"] == ["actions"]
    reply = post(stack.bot_url, {"sender": "e2e-noactions", "text": "zzxq vrrk plimf"})
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "en")


def test_rasa_down_apologises_in_language_and_keeps_the_message(stack):
    stack.stop("rasa")
    status, body = health(stack.bot_url, stack.admin_token)
    assert status == 503 and "rasa" in body["down"]
    reply = post(stack.bot_url, {"sender": "e2e-fa-down", "text": "سلام، سفارش من کجاست؟"})
    assert reply["language"] == "fa"
    assert reply["messages"][-1]["text"] == answer("utter_service_unavailable", "fa")
    with urllib.request.urlopen(
        f"{stack.bot_url}/api/v1/conversations/e2e-fa-down/messages", timeout=10
    ) as response:
        stored = json.loads(response.read())["messages"]
    assert stored[0] == {**stored[0], "from": "customer", "text": "سلام، سفارش من کجاست؟"}


def test_a_message_kept_while_rasa_was_down_is_answered_once_it_is_back(stack):
    stack.stop("rasa")
    message = {"sender": "e2e-later", "text": "hello", "message_id": "later-1"}
    apology = answer("utter_service_unavailable", "en")
    assert post(stack.bot_url, message)["messages"][-1]["text"] == apology
    stack.revive()  # Rasa (and the action server) again
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        bot_said = [m["text"] for m in _conversation(stack, "e2e-later") if m["from"] == "bot"]
        if bot_said[-1] != apology:
            break
        time.sleep(1)
    later = bot_said[bot_said.index(apology) + 1 :]
    assert later and apology not in later, bot_said  # the greeting, once
    # The same message_id again: the real answer, not the old apology, and no new one.
    assert post(stack.bot_url, message)["messages"] == [{"text": text} for text in later]
    assert [m["text"] for m in _conversation(stack, "e2e-later")][-len(later) :] == later


def _conversation(stack, sender: str) -> list[dict]:
    with urllib.request.urlopen(
        f"{stack.bot_url}/api/v1/conversations/{sender}/messages", timeout=10
    ) as response:
        return json.loads(response.read())["messages"]
