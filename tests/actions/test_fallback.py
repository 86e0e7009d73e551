"""action_fallback with a CollectingDispatcher and trackers built per test."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.fallback import ActionFallback
from actions.settings import ActionSettings


@pytest.fixture(autouse=True)
def action_settings():
    """The settings the action server reads at start (scripts/actions_server.py)."""
    services.configure(ActionSettings())
    yield
    services.configure(None)


def user(intent: str) -> dict:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def tracker_with(*events: dict) -> Tracker:
    return Tracker(
        sender_id="t",
        slots={},
        latest_message=events[-1]["parse_data"] if events else {},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(*events: dict) -> list[dict]:
    dispatcher = CollectingDispatcher()
    await ActionFallback().run(dispatcher, tracker_with(*events), {})
    return dispatcher.messages


async def test_first_miss_asks_to_rephrase():
    messages = await run(user("greet"), {"event": "bot", "text": "hi"}, user("nlu_fallback"))
    assert [m["response"] for m in messages] == ["utter_ask_rephrase"]


async def test_second_miss_in_a_row_hands_over_to_a_person():
    messages = await run(
        user("nlu_fallback"), {"event": "bot", "text": "say again?"}, user("nlu_fallback")
    )
    assert [m["custom"] for m in messages] == [
        {"handoff": {"reason": "stuck", "intent": "nlu_fallback"}}
    ]


async def test_the_number_of_misses_is_configurable():
    services.configure(ActionSettings.from_env({"TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS": "3"}))
    two = await run(user("nlu_fallback"), user("nlu_fallback"))
    three = await run(user("nlu_fallback"), user("nlu_fallback"), user("nlu_fallback"))
    assert [m["response"] for m in two] == ["utter_ask_rephrase"]
    assert three[0]["custom"]["handoff"]["reason"] == "stuck"


async def test_an_understood_message_resets_the_count():
    messages = await run(user("nlu_fallback"), user("greet"), user("nlu_fallback"))
    assert [m["response"] for m in messages] == ["utter_ask_rephrase"]


async def test_the_environment_is_read_once_at_start_not_on_every_call(monkeypatch):
    # A variable broken after start (or one only the gateway reads) cannot break the
    # handling of misunderstandings.
    monkeypatch.setenv("TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS", "not a number")
    monkeypatch.setenv("TELEGRAM_TOKEN", "broken")
    messages = await run(user("nlu_fallback"), user("nlu_fallback"))
    assert messages[0]["custom"]["handoff"]["reason"] == "stuck"
