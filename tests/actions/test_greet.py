"""action_greet: only a customer verified in this session hears their name and order."""

import time

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.greet import ActionGreet


def greeting(events: list[dict], **slots) -> tuple[CollectingDispatcher, Tracker]:
    tracker = Tracker(
        sender_id="t",
        slots=slots,
        latest_message={"text": "hi", "intent": {"name": "greet"}},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    return CollectingDispatcher(), tracker


async def run(events: list[dict], **slots) -> list[dict]:
    dispatcher, tracker = greeting(events, **slots)
    await ActionGreet().run(dispatcher, tracker, {})
    return dispatcher.messages


HI = {"event": "user", "text": "hi"}
NEW_SESSION = {"event": "session_started"}


def session_at(started: float) -> list[dict]:
    return [{"event": "session_started", "timestamp": started}, HI]


async def test_a_customer_verified_in_this_session_is_welcomed_back_with_their_order():
    now = time.time()
    messages = await run(
        session_at(now - 600), verified_order="10001", verified_at=now - 60, customer_name="Alex"
    )
    assert messages[0]["response"] == "utter_welcome_back"
    assert (messages[0]["name"], messages[0]["order_number"]) == ("Alex", "10001")


async def test_a_new_session_greets_a_stranger_however_the_slots_look():
    """Whoever writes under a sender id later is not the customer who was verified: the
    slots of an earlier session (or of an older version without verified_at) give away
    no name and no order."""
    now = time.time()
    earlier_session = await run(
        session_at(now - 60), verified_order="10001", verified_at=now - 900, customer_name="Alex"
    )
    no_timestamp = await run([NEW_SESSION, HI], verified_order="10001", customer_name="Alex")
    expired = await run(
        session_at(now - 7200),
        verified_order="10001",
        verified_at=now - 31 * 60,
        customer_name="Alex",
    )
    for messages in (earlier_session, no_timestamp, expired):
        assert [m["response"] for m in messages] == ["utter_greet"]
        assert "Alex" not in str(messages) and "10001" not in str(messages)


async def test_a_new_customer_or_a_greeting_mid_conversation_gets_hello():
    assert (await run([NEW_SESSION, HI]))[0]["response"] == "utter_greet"
    mid = [NEW_SESSION, HI, {"event": "bot"}, HI]
    messages = await run(mid, verified_order="10001", customer_name="Alex")
    assert messages[0]["response"] == "utter_greet"
