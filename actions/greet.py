"""Greeting, with a personal touch for a customer who comes back."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def first_message_of_session(tracker: Tracker) -> bool:
    for event in reversed(tracker.events[:-1] if tracker.events else []):
        if event.get("event") == "session_started":
            return True
        if event.get("event") == "user":
            return False
    return True


class ActionGreet(Action):
    """ "Welcome back, Alex! Is this still about order 10001?" for a customer whose order
    was checked in an earlier session (the slots carry over, domain.yml); else hello."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order, name = tracker.get_slot("verified_order"), tracker.get_slot("customer_name")
        if order and name and first_message_of_session(tracker):
            dispatcher.utter_message(response="utter_welcome_back", name=name, order_number=order)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
