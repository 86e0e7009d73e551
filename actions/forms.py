"""Slot extraction and validation for the account forms (domain.yml `forms`).

Every form but the password one asks for the order number and the e-mail address and
checks the pair with the shop before anything is shown or changed (actions/shop/verification.py).
A message that is clearly about something else (an FAQ, "no", a person) is not read as a
slot value: the form lets go of it and the rules answer it (data/rules/account.yml).
"""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.services import services
from actions.shop import ShopUnavailable, slots
from actions.verified import forget_verification, stale_verification, verified, verified_order

# Intents that mean the customer is not answering the question the form asked.
_ELSEWHERE = frozenset(
    {
        "faq",
        "deny",
        "goodbye",
        "request_human",
        "complain",
        "bot_challenge",
        "change_language",
        "out_of_scope",
        "greet",
        "thank",
    }
)
_CONFIDENT = 0.6
# Slots a form fills once and the submit action empties again.
FORM_SLOTS = ("confirmed", "new_address", "refund_reason", "payment_details", "new_email")


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


# An address, a refund reason or what went wrong with a payment reads like a complaint
# or "out of scope" to the NLU; only a clear "no" or a request for a person leaves then.
_LEAVING_FREE_TEXT = frozenset({"deny", "request_human"})


def _elsewhere(tracker: Tracker, free_text: bool = False) -> bool:
    name, confidence = _intent(tracker)
    text = tracker.latest_message.get("text") or ""
    if free_text:
        return name in _LEAVING_FREE_TEXT and (confidence >= 0.8 or text.startswith("/"))
    return (name in _ELSEWHERE and confidence >= _CONFIDENT) or (
        text.startswith("/") and name in _ELSEWHERE
    )


def _asked(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


class AccountFormValidation(FormValidationAction):
    verify = True

    @property
    @abc.abstractmethod
    def form(self) -> str:
        """The form this validates (abstract: the base is not an action of its own)."""

    def name(self) -> str:
        return f"validate_{self.form}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # Verification locked or the shop unreachable: the form ends here.
        return [] if tracker.get_slot("form_stopped") else domain_slots

    # Order number and e-mail: read from the message that starts the form too
    # ("where is order 10001?"), otherwise only when asked for.

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "order_number"):
            return {}
        text = tracker.latest_message.get("text") or ""
        number = slots.order_number(text)
        if number:
            return {"order_number": number}
        if requested == "order_number" and not _elsewhere(tracker):
            dispatcher.utter_message(response="utter_invalid_order_number")
            return {"order_number": None}
        return {}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, "email"):
            return {}
        found = slots.email(tracker.latest_message.get("text") or "")
        if found:
            return {"email": found}
        if requested == "email" and not _elsewhere(tracker):
            dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        return {}

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        checked = tracker.get_slot("verified_order")
        if checked and value != checked and tracker.get_slot("email"):
            # Another order than the one checked before: check its e-mail address too.
            return {
                "order_number": value,
                "email": None,
                "verified_order": None,
                "verified_at": None,
            }
        return {"order_number": value}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        if self.verify and stale_verification(tracker):
            # Checked too long ago or in an earlier session: the owner proves it again,
            # with an e-mail typed now (one given with this very message still counts).
            just_given = any(
                event.get("name") == "email" and event.get("value") for event in events
            )
            forget = [e for e in forget_verification() if not (just_given and e["name"] == "email")]
            tracker.add_slots(forget)
            events += forget
        number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
        if self.verify and number and email and verified_order(tracker) != number:
            events += await self._verify(dispatcher, tracker, number, email)
        return events

    async def _verify(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str, email: str
    ) -> list[EventType]:
        try:
            verdict = await (await services()).verifier.verify(tracker.sender_id, number, email)
        except ShopUnavailable:
            dispatcher.utter_message(response="utter_shop_unavailable")
            return [SlotSet("form_stopped", True)]
        if verdict.verified:
            name = verdict.order.customer_name.split()[0] if verdict.order.customer_name else ""
            dispatcher.utter_message(response="utter_verified", name=name, order_number=number)
            return verified(number, name)
        # The same words for a wrong address, an unknown order and someone else's order.
        forget = [SlotSet("order_number", None), SlotSet("email", None)]
        if verdict.locked:
            dispatcher.utter_message(response="utter_verification_locked")
            return [*forget, SlotSet("form_stopped", True)]
        dispatcher.utter_message(response="utter_not_verified")
        return forget

    # What a form asks beyond the order: only the answer to its own question.

    async def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not _asked(tracker, "confirmed"):
            return {}
        name, _ = _intent(tracker)
        if name in ("affirm", "deny"):
            return {"confirmed": name == "affirm"}
        return {}

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not _asked(tracker, "new_address") or _elsewhere(tracker, free_text=True):
            return {}
        address = slots.postal_address(tracker.latest_message.get("text") or "")
        if address is None:
            dispatcher.utter_message(response="utter_invalid_address")
        return {"new_address": address}

    async def extract_refund_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return _free_text(tracker, "refund_reason", minimum=3)

    async def extract_payment_details(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return _free_text(tracker, "payment_details", minimum=5)

    async def extract_new_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not _asked(tracker, "new_email") or _elsewhere(tracker):
            return {}
        found = slots.email(tracker.latest_message.get("text") or "")
        if found is None or found == tracker.get_slot("email"):
            dispatcher.utter_message(response="utter_invalid_email")
            return {"new_email": None}
        return {"new_email": found}


def _free_text(tracker: Tracker, slot: str, minimum: int) -> dict[str, Any]:
    if not _asked(tracker, slot) or _elsewhere(tracker, free_text=True):
        return {}
    text = (tracker.latest_message.get("text") or "").strip()
    return {slot: text} if len(text) >= minimum else {}


def _validation(form: str, verify: bool = True) -> type[AccountFormValidation]:
    return type(
        f"Validate{form.title().replace('_', '')}",
        (AccountFormValidation,),
        {"form": form, "verify": verify, "__module__": __name__},
    )


ValidateTrackOrderForm = _validation("track_order_form")
ValidateCancelOrderForm = _validation("cancel_order_form")
ValidateChangeShippingAddressForm = _validation("change_shipping_address_form")
ValidateRequestRefundForm = _validation("request_refund_form")
ValidateTrackRefundForm = _validation("track_refund_form")
ValidateGetInvoiceForm = _validation("get_invoice_form")
ValidatePaymentIssueForm = _validation("payment_issue_form")
ValidateUpdateEmailForm = _validation("update_email_form")
ValidateDeleteAccountForm = _validation("delete_account_form")
# Never reveals whether an address has an account, so nothing to verify.
ValidateRecoverPasswordForm = _validation("recover_password_form", verify=False)
# Any address the customer names is theirs to be written to (actions/email.py).
ValidateContinueByEmailForm = _validation("continue_by_email_form", verify=False)
