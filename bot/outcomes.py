"""What Rasa made of a customer message, recorded when Rasa asks `/nlg` for its answer.

Rasa's REST reply carries texts only; the NLG request carries the tracker, whose latest
message holds the intent (and for FAQs the retrieval intent, "faq/shipping_time") and the
metadata the gateway sent, including the stored message's seq (bot/inbound.py). So /nlg
writes, on that customer message: the intent, its confidence and the kind of answer the
response is. Surveys (when to ask) and metrics (the topic of a request, whether it was
answered) read them.
"""

from __future__ import annotations

import logging
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    bindparam,
    case,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import conversations, messages
from bot.prepared import Prepared, statements

log = logging.getLogger(__name__)

# What the account actions say when they have done the customer's request, whatever the
# answer (actions/account.py): an order's status, a cancellation made or declined, an
# invoice, a refund requested or its state, a password link, an address or e-mail changed.
# Not: verification failed, shop down, payment (a person takes it), account deleted (the
# conversation is erased). tests/bot/surveys check every name against actions/account.py.
ACCOUNT_RESULTS = frozenset(
    {
        "utter_order_status_shipped",
        "utter_order_status_delivered",
        "utter_order_status_cancelled",
        "utter_order_status_processing",
        "utter_order_kept",
        "utter_cannot_cancel_shipped",
        "utter_order_cancelled",
        "utter_cannot_change_address_shipped",
        "utter_address_changed",
        "utter_refund_not_delivered",
        "utter_refund_window_closed",
        "utter_refund_requested",
        "utter_no_refund",
        "utter_refund_status_requested",
        "utter_refund_status_approved",
        "utter_refund_status_paid",
        "utter_refund_status_rejected",
        "utter_invoice",
        "utter_no_invoice",
        "utter_password_reset_sent",
        "utter_email_kept",
        "utter_email_updated",
        "utter_account_kept",
    }
)
# The bot did not understand (actions/fallback.py, data/rules/fallback.yml).
FALLBACKS = frozenset({"utter_ask_rephrase"})
FAQ_PREFIX = "utter_faq/"
# Message ids are 64-bit integers on PostgreSQL and SQLite alike.
_BIGGEST_ID = 2**63

# Kinds of answer, strongest first: a message answered by an account result and then a
# "anything else?" is an account answer.
ANSWER_KINDS = ("account", "faq", "other", "fallback")
# Answers that answer a request (for "the request was answered", surveys and metrics).
ANSWERED = ("account", "faq")


def answer_kind(response: str) -> str:
    if response in ACCOUNT_RESULTS:
        return "account"
    if response.startswith(FAQ_PREFIX):
        return "faq"
    if response in FALLBACKS:
        return "fallback"
    return "other"


def _stronger_of(stored: ColumnElement, new: str) -> ColumnElement:
    """The stored kind when it is stronger than `new` (ANSWER_KINDS), else `new`; as SQL,
    so that the kind is read and written in one statement."""
    better = ANSWER_KINDS[: ANSWER_KINDS.index(new)]
    if not better:
        return literal(new)
    return case((stored.in_(better), stored), else_=literal(new))


@cache
def _recording(kind: str, *, with_intent: bool) -> Prepared:
    """The UPDATE of Outcomes.record for an answer of `kind`, built once per shape: /nlg
    runs for every reply, and building the statement cost more than running it."""
    values: dict = {"answer": _stronger_of(messages.c.answer, kind)}
    if with_intent:
        values.update(
            intent=bindparam("named", type_=String),
            intent_confidence=bindparam("confidence", type_=Float),
        )
    of_this_conversation = select(conversations.c.id).where(
        conversations.c.sender == bindparam("key")
    )
    return Prepared(
        update(messages)
        .where(
            messages.c.id == bindparam("seq"),
            messages.c.author == "customer",
            messages.c.conversation_id.in_(of_this_conversation.scalar_subquery()),
        )
        .values(**values)
    )


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def intent_of(latest: dict) -> tuple[str | None, float | None]:
    """The intent of Rasa's latest message ("faq/return_policy" for a retrieval intent)."""
    intent = _object(latest.get("intent"))
    name = intent.get("name") if isinstance(intent.get("name"), str) else None
    confidence = intent.get("confidence")
    confidence = float(confidence) if isinstance(confidence, int | float) else None
    selector = _object(_object(latest.get("response_selector")).get(name or ""))
    key = _object(selector.get("response")).get("intent_response_key")
    if isinstance(key, str) and key:
        name = key
    if name is not None:
        name = name[:64]
    return name, confidence


class Outcomes:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, tracker: dict, response: str) -> None:
        """Note on the customer message Rasa is answering what it was and what it got.
        Only the gateway's own seq, for a message of the tracker's conversation."""
        latest = _object(tracker.get("latest_message"))
        seq = _object(latest.get("metadata")).get("message")
        sender = tracker.get("sender_id")
        if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(sender, str):
            return
        if not 0 < seq < _BIGGEST_ID:  # not one of ours, and beyond what the database holds
            return
        intent, confidence = intent_of(latest)
        # One statement, not a read and a write, and no transaction around it: /nlg runs
        # once or more per customer message, and every round trip to the database is on
        # the message's way out.
        statement = _recording(answer_kind(response), with_intent=intent is not None)
        parameters = {"seq": seq, "key": sender}
        if intent is not None:
            parameters.update(named=intent, confidence=confidence)
        async with statements(self._engine, writes="one") as run:
            await run.rows(statement, parameters)
