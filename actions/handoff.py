"""Handing the conversation to a person: the action tells the bot service, which opens the
ticket, routes it and tells the customer their place in the queue (DESIGN "Message flow" 6).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tolk_core.signals import HANDOFF_REASONS, Handoff, SignalError

log = logging.getLogger(__name__)

_REASON_BY_INTENT = {"request_human": "request", "complain": "complaint"}


def handoff_signal(tracker: Tracker, reason: str | None = None) -> Handoff:
    """The handoff for the latest message (tolk_core/signals.py).

    The EscalationDetector (config.yml) adds `escalation` to the parse data with the
    reason (anger, legal, fraud, ...) and the intent the classifiers saw before it.
    """
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    escalation = message.get("escalation") or {}
    if reason is None:
        reason = escalation.get("reason")
        if reason and not (isinstance(reason, str) and reason in HANDOFF_REASONS):
            # A detector newer than the signals: the customer still reaches a person.
            log.warning("escalation reason %r unknown; handing off as a request", reason)
            reason = None
        reason = reason or _REASON_BY_INTENT.get(intent, "request")
    intent = escalation.get("intent") or intent
    try:
        return Handoff(reason, intent)
    except SignalError as error:
        # An intent name the tickets cannot hold: the handoff matters more than the topic.
        log.warning("handoff without its intent: %s", error)
        return Handoff(reason)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(json_message=handoff_signal(tracker).to_payload())
        return []
