"""Handing the conversation to a person: the action tells the bot service, which opens the
ticket, routes it and tells the customer their place in the queue (DESIGN "Message flow" 6).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

_REASON_BY_INTENT = {"request_human": "request", "complain": "complaint"}


def handoff_payload(tracker: Tracker, reason: str | None = None) -> dict:
    """{"handoff": {"reason", "intent"}} for the latest message.

    The EscalationDetector (config.yml) adds `escalation` to the parse data with the
    reason (anger, legal, fraud, ...) and the intent the classifiers saw before it.
    """
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    escalation = message.get("escalation") or {}
    if reason is None:
        reason = escalation.get("reason") or _REASON_BY_INTENT.get(intent, "request")
    return {"handoff": {"reason": reason, "intent": escalation.get("intent") or intent}}


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(json_message=handoff_payload(tracker))
        return []
