"""action_handoff with a CollectingDispatcher and trackers built per test."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff


def tracker_for(parse_data: dict) -> Tracker:
    event = {"event": "user", "text": parse_data.get("text", ""), "parse_data": parse_data}
    return Tracker(
        sender_id="t",
        slots={},
        latest_message=parse_data,
        events=[event],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def handoff(parse_data: dict) -> dict:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker_for(parse_data), {})
    assert events == []
    [message] = dispatcher.messages
    assert message["text"] is None, "the bot service, not the action, talks to the customer"
    return message["custom"]["handoff"]


async def test_asking_for_a_person_is_a_request():
    found = await handoff({"text": "mag ik een mens?", "intent": {"name": "request_human"}})
    assert found == {"reason": "request", "intent": "request_human"}


async def test_a_complaint_is_a_complaint():
    found = await handoff({"text": "het pakket is kapot", "intent": {"name": "complain"}})
    assert found == {"reason": "complaint", "intent": "complain"}


async def test_the_detectors_reason_and_original_intent_are_passed_on():
    parse_data = {
        "text": "WHERE IS MY ORDER?!?! I'll call my lawyer",
        "intent": {"name": "complain", "confidence": 1.0},
        "escalation": {
            "reason": "legal",
            "score": 0,
            "signals": ["legal"],
            "intent": "track_order",
        },
    }
    assert await handoff(parse_data) == {"reason": "legal", "intent": "track_order"}


async def test_an_escalation_reason_the_gateway_does_not_know_still_reaches_a_person():
    parse_data = {
        "text": "help",
        "intent": {"name": "complain"},
        "escalation": {"reason": "boredom", "intent": "track_order"},
    }
    assert await handoff(parse_data) == {"reason": "complaint", "intent": "track_order"}


async def test_an_intent_name_a_ticket_cannot_hold_is_left_out():
    parse_data = {"text": "help", "intent": {"name": "request_human " * 10}}
    assert await handoff(parse_data) == {"reason": "request", "intent": None}
