"""The real stack's internal doors: closed to strangers, open to the process they serve.

Every other e2e test shows the authorised side (Rasa's calls to the action server and to
/nlg carry the secrets from endpoints.yml, or no answer would come back).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import post
from tests.scripts.forged import forged_cancel

pytestmark = pytest.mark.e2e


def status_of(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_forged_tracker_does_not_reach_the_actions(stack):
    url = f"http://127.0.0.1:{stack.ports.actions}/webhook"
    assert status_of(url, forged_cancel())[0] == 401
    wrong = {"Authorization": f"Bearer {stack.admin_token}"}  # another secret of ours
    assert status_of(url, forged_cancel(), wrong)[0] == 401


def test_a_message_straight_to_rasa_is_refused(stack):
    url = f"http://127.0.0.1:{stack.ports.rasa}/webhooks/rest/webhook"
    message = {"sender": "rest-someone-else", "message": "cancel my order"}
    assert status_of(url, message)[0] == 401


def test_nlg_and_reload_refuse_strangers(stack):
    nlg = {"response": "utter_greet", "tracker": {"sender_id": "x", "slots": {}}}
    assert status_of(f"{stack.bot_url}/nlg", nlg)[0] == 401
    assert status_of(f"{stack.bot_url}/api/v1/content/reload", {})[0] == 401


def test_health_tells_strangers_only_up_or_down(stack):
    assert status_of(f"{stack.bot_url}/healthz") == (200, {"status": "ok"})
    assert status_of(f"{stack.bot_url}/readyz") == (200, {"status": "ok"})
    assert status_of(f"{stack.bot_url}/livez") == (200, {"status": "ok"})


def test_rasa_renders_through_the_authenticated_nlg(stack):
    reply = post(stack.bot_url, {"sender": "e2e-doors", "text": "hello"})
    assert reply["messages"] and all(message["text"] for message in reply["messages"])
