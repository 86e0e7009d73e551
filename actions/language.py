"""Switching the conversation language when the customer asks ("can we speak Dutch?")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tolk_core.language_names import named_languages
from tolk_core.signals import SetLanguage


class ActionChangeLanguage(Action):
    """Tells the gateway which language was asked for; it switches and confirms in it.

    The gateway owns the conversation language (and knows which languages it can serve
    now), so the action only passes on what the customer named.
    """

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        metadata = tracker.latest_message.get("metadata") or {}
        current = metadata.get("language")
        named = named_languages(tracker.latest_message.get("text") or "")
        wanted = next((code for code in named if code != current), None)
        if wanted:
            dispatcher.utter_message(json_message=SetLanguage(wanted).to_payload())
        else:
            dispatcher.utter_message(response="utter_change_language")
        return []
