"""Greeting, with a personal touch only for a customer who proved who they are."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.verified import verified_order


class ActionGreet(Action):
    """ "Welcome back, Alex! Is this still about order 10001?" when this session checked
    that order (within the last 30 minutes); else hello. A new session knows no one: a
    sender id is not proof of who is writing (DESIGN "Demo shop")."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order, name = verified_order(tracker), tracker.get_slot("customer_name")
        if order and name:
            dispatcher.utter_message(response="utter_welcome_back", name=name, order_number=order)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []
