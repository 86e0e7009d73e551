"""What the bot does when it did not understand the customer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import handoff_signal
from actions.services import settings

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
    """Not understood: ask to rephrase; after TOLK_HANDOFF_AFTER_MISUNDERSTANDINGS misses in
    a row (2 by default), hand the conversation to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) >= settings().handoff_after_misunderstandings:
            dispatcher.utter_message(
                json_message=handoff_signal(tracker, reason="stuck").to_payload()
            )
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
