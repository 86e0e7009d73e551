"""action_greet: a returning customer hears their name and last order."""

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


async def test_a_returning_customer_is_welcomed_back_with_their_order():
    messages = await run([NEW_SESSION, HI], verified_order="10001", customer_name="Alex")
    assert messages[0]["response"] == "utter_welcome_back"
    assert (messages[0]["name"], messages[0]["order_number"]) == ("Alex", "10001")


async def test_a_new_customer_or_a_greeting_mid_conversation_gets_hello():
    assert (await run([NEW_SESSION, HI]))[0]["response"] == "utter_greet"
    mid = [NEW_SESSION, HI, {"event": "bot"}, HI]
    messages = await run(mid, verified_order="10001", customer_name="Alex")
    assert messages[0]["response"] == "utter_greet"
