"""The customer asks to continue by e-mail ("can you send me this by e-mail?").

`continue_by_email_form` asks for an address unless the message names one or the
session holds the verified customer's (actions/forms.py reads it). The action then tells
the gateway, which owns the mail (bot/channels/email/): it mails the latest answers,
threads the replies into this conversation and tells the customer, or says why not
(e-mail not set up, the mail server down). The action cannot know that, so it says
nothing itself.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.verified import verified_order
from tolk_core.signals import ContinueByEmail, SignalError


class ActionContinueByEmail(Action):
    def name(self) -> str:
        return "action_continue_by_email"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        address = tracker.get_slot("email")
        try:
            signal = ContinueByEmail(address)
        except SignalError:  # the form let go without an address (the customer said no)
            dispatcher.utter_message(response="utter_form_stopped")
            return []
        dispatcher.utter_message(json_message=signal.to_payload())
        if verified_order(tracker) is None:
            # Unverified: not kept, so it cannot stand in for a verified address later.
            return [SlotSet("email", None)]
        return []
