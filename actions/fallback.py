"""What the bot does when it did not understand the customer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENT = "nlu_fallback"


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionFallback(Action):
    """First miss: ask to rephrase. Second miss in a row: offer a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
