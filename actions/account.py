"""What the account forms do once they have their slots (data/rules/account.yml).

Each action runs only for an order verified in this session, less than 30 minutes ago
(actions/verified.py);
a form that stopped (verification locked, shop unreachable) ends without more words.
The answers are catalogue texts with the shop's values as arguments, so they are in the
customer's language.
"""

from __future__ import annotations

import abc
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import FORM_SLOTS
from actions.services import services
from actions.shop.model import Order, ShopError
from actions.verified import forget_verification, verified_order
from tolk_core.signals import Erase, Handoff

RETURN_DAYS = 30
# Spelled out so that `content check` finds every response the actions send.
REFUND_STATUS = {
    "requested": "utter_refund_status_requested",
    "approved": "utter_refund_status_approved",
    "paid": "utter_refund_status_paid",
    "rejected": "utter_refund_status_rejected",
}


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "-"


def _money(cents: int, currency: str) -> str:
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, f"{currency} ")
    return f"{symbol}{cents / 100:.2f}"


class AccountAction(Action):
    """Runs `answer` with the verified order, then empties the form's own slots."""

    needs_order = True

    @property
    @abc.abstractmethod
    def intent(self) -> str:
        """The intent whose form this action completes (abstract: not an action itself)."""

    def name(self) -> str:
        return f"action_{self.intent}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet("form_stopped", None)]
        if tracker.get_slot("form_stopped"):
            return reset
        number = tracker.get_slot("order_number")
        order = None
        try:
            if self.needs_order:
                if not number or verified_order(tracker) != number:
                    return reset  # never reached by the rules; nothing to reveal
                order = await (await services()).shop.order(number)
                if order is None:
                    dispatcher.utter_message(response="utter_not_verified")
                    return reset
            events = await self.answer(dispatcher, tracker, order)
        except ShopError:
            dispatcher.utter_message(response="utter_shop_unavailable")
            return reset
        return reset + events

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order | None
    ) -> list[EventType]:
        raise NotImplementedError


class ActionTrackOrder(AccountAction):
    intent = "track_order"

    async def answer(self, dispatcher, tracker, order):
        shipment = order.shipment
        if order.status == "shipped" and shipment:
            dispatcher.utter_message(
                response="utter_order_status_shipped",
                order_number=order.number,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tracking_url=shipment.tracking_url or "-",
                expected_on=_iso(shipment.expected_on),
            )
        elif order.status == "delivered":
            dispatcher.utter_message(
                response="utter_order_status_delivered",
                order_number=order.number,
                delivered_on=_iso(order.delivered_on),
            )
        elif order.status == "cancelled":
            dispatcher.utter_message(
                response="utter_order_status_cancelled", order_number=order.number
            )
        else:
            dispatcher.utter_message(
                response="utter_order_status_processing", order_number=order.number
            )
        return []


class ActionCancelOrder(AccountAction):
    intent = "cancel_order"

    async def answer(self, dispatcher, tracker, order):
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(response="utter_order_kept", order_number=order.number)
        elif order.status != "processing":
            dispatcher.utter_message(
                response="utter_cannot_cancel_shipped", order_number=order.number
            )
        else:
            await (await services()).shop.cancel_order(order.number)
            dispatcher.utter_message(response="utter_order_cancelled", order_number=order.number)
        return []


class ActionChangeShippingAddress(AccountAction):
    intent = "change_shipping_address"

    async def answer(self, dispatcher, tracker, order):
        if order.shipped:
            shipment = order.shipment
            dispatcher.utter_message(
                response="utter_cannot_change_address_shipped",
                order_number=order.number,
                carrier=shipment.carrier if shipment else "-",
                tracking_number=shipment.tracking_number if shipment else "-",
            )
            return []
        address = tracker.get_slot("new_address")
        await (await services()).shop.change_address(order.number, address)
        dispatcher.utter_message(
            response="utter_address_changed", order_number=order.number, address=address
        )
        return []


class ActionRequestRefund(AccountAction):
    intent = "request_refund"

    async def answer(self, dispatcher, tracker, order):
        delivered = order.delivered_on
        if order.status != "delivered" or delivered is None:
            dispatcher.utter_message(
                response="utter_refund_not_delivered", order_number=order.number
            )
            return []
        if (date.today() - delivered).days > RETURN_DAYS:
            dispatcher.utter_message(
                response="utter_refund_window_closed",
                order_number=order.number,
                delivered_on=_iso(delivered),
            )
            return []
        refund = await (await services()).shop.request_refund(
            order.number, tracker.get_slot("refund_reason") or ""
        )
        dispatcher.utter_message(
            response="utter_refund_requested",
            order_number=order.number,
            amount=_money(refund.amount_cents, order.currency),
            refund_id=refund.id,
            expected_on=_iso(refund.expected_on),
        )
        return []


class ActionTrackRefund(AccountAction):
    intent = "track_refund"

    async def answer(self, dispatcher, tracker, order):
        if not order.refunds:
            dispatcher.utter_message(response="utter_no_refund", order_number=order.number)
            return []
        refund = max(order.refunds, key=lambda r: r.requested_on)
        dispatcher.utter_message(
            response=REFUND_STATUS.get(refund.status, "utter_refund_status_requested"),
            order_number=order.number,
            refund_id=refund.id,
            expected_on=_iso(refund.expected_on),
        )
        return []


class ActionGetInvoice(AccountAction):
    intent = "get_invoice"

    async def answer(self, dispatcher, tracker, order):
        if order.invoice_url:
            dispatcher.utter_message(
                response="utter_invoice", order_number=order.number, invoice_url=order.invoice_url
            )
        else:
            dispatcher.utter_message(response="utter_no_invoice", order_number=order.number)
        return []


class ActionPaymentIssue(AccountAction):
    """Payments need a person: the details go into the ticket's transcript."""

    intent = "payment_issue"

    async def answer(self, dispatcher, tracker, order):
        dispatcher.utter_message(response="utter_payment_noted")
        dispatcher.utter_message(json_message=Handoff("payment", self.intent).to_payload())
        return []


class ActionRecoverPassword(AccountAction):
    """The same answer whether or not the address has an account."""

    intent = "recover_password"
    needs_order = False

    async def answer(self, dispatcher, tracker, order):
        email = tracker.get_slot("email")
        await (await services()).shop.send_password_reset(email)
        dispatcher.utter_message(response="utter_password_reset_sent", email=email)
        # Unverified: not kept, so it cannot stand in for a verified address later.
        return [SlotSet("email", None)]


class ActionUpdateEmail(AccountAction):
    intent = "update_email"

    async def answer(self, dispatcher, tracker, order):
        old, new = tracker.get_slot("email"), tracker.get_slot("new_email")
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(response="utter_email_kept", email=old)
            return []
        await (await services()).shop.update_email(old, new)
        dispatcher.utter_message(response="utter_email_updated", email=old, new_email=new)
        return [SlotSet("email", new)]


class ActionDeleteAccount(AccountAction):
    """After the shop deleted the account, the bot service erases the conversation, as
    `python -m bot erase` does, once Rasa has finished with it."""

    intent = "delete_account"

    async def answer(self, dispatcher, tracker, order):
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(response="utter_account_kept")
            return []
        await (await services()).shop.delete_account(tracker.get_slot("email"))
        dispatcher.utter_message(response="utter_account_deleted")
        dispatcher.utter_message(json_message=Erase().to_payload())
        return [SlotSet("order_number", None), *forget_verification()]
