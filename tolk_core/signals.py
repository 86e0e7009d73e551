"""The signals Rasa's actions send the gateway, defined once and checked on both sides.

An action cannot call the gateway: it answers Rasa with a custom payload
(`dispatcher.utter_message(json_message=signal.to_payload())`), Rasa passes it on in its
REST reply and the gateway reads it with `parse`. Rasa also stores the payload in its
trackers, so the wire format below never changes:

    {"handoff": {"reason": "anger", "intent": "track_order"}}   a person takes over
    {"erase": true}                                              erase the customer
    {"set_language": "nl"}                                       switch the language
    {"continue_by_email": "sam@example.com"}                     mail the conversation on

A payload that is none of these raises `SignalError`: the gateway logs it and ignores it,
so that a bug in an action never crashes a conversation nor opens a ticket for a reason
nobody handles. Standard library only: both environments import it (docs/architecture.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Why a person takes over. The escalation detector's verdicts (nlu_components/escalation/
# policy.py), the intents that ask for a person (actions/handoff.py), misunderstandings in
# a row (actions/fallback.py) and payment problems (actions/account.py). The gateway
# words its intro and priority by them (bot/handoff/service.py); tickets store them in a
# 16-character column (bot/db.py).
HANDOFF_REASONS = frozenset(
    {
        "request",
        "complaint",
        "anger",
        "legal",
        "fraud",
        "chargeback",
        "safety",
        "stuck",
        "payment",
    }
)

_HANDOFF = "handoff"
_ERASE = "erase"
_SET_LANGUAGE = "set_language"
_CONTINUE_BY_EMAIL = "continue_by_email"
_REASON = "reason"
_INTENT = "intent"

# A language code as the gateway stores it (16 characters at most, bot/db.py): "nl",
# "fil", "pt-BR". Only the shape: which languages it can serve now is the gateway's call.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")
_LANGUAGE_LENGTH = 16
# A Rasa intent name ("track_order", "faq/shipping_time"), as tickets store it (64).
_INTENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_INTENT_LENGTH = 64
# An e-mail address as the gateway stores it (320 characters, bot/db.py): only the shape,
# one "@" with something either side and no spaces; the gateway checks it as its mail
# library does. Possessive-free and linear: each class excludes "@" and whitespace.
_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_ADDRESS_LENGTH = 320
# How much of a rejected value a SignalError quotes (it ends up in the gateway's log).
_QUOTE = 80


class SignalError(ValueError):
    """A payload that is not one of the signals, or a signal with a value out of range."""


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."


@dataclass(frozen=True)
class Handoff:
    """Hand the conversation to a person; `intent` is what the customer asked about, if
    known (the queue groups customers with the same problem by it)."""

    reason: str
    intent: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or self.reason not in HANDOFF_REASONS:
            raise SignalError(
                f"unknown handoff reason {_quote(self.reason)}; "
                f"known: {', '.join(sorted(HANDOFF_REASONS))}"
            )
        if self.intent is not None and not (
            isinstance(self.intent, str)
            and len(self.intent) <= _INTENT_LENGTH
            and _INTENT_NAME.fullmatch(self.intent)
        ):
            raise SignalError(f"handoff intent {_quote(self.intent)} is not an intent name")

    def to_payload(self) -> dict[str, Any]:
        return {_HANDOFF: {_REASON: self.reason, _INTENT: self.intent}}


@dataclass(frozen=True)
class Erase:
    """Erase everything stored about the customer (they deleted their account), once Rasa
    has stored its last event for them."""

    def to_payload(self) -> dict[str, Any]:
        return {_ERASE: True}


@dataclass(frozen=True)
class SetLanguage:
    """The customer asked for another language; the gateway switches if it can serve it."""

    code: str

    def __post_init__(self) -> None:
        if not (
            isinstance(self.code, str)
            and len(self.code) <= _LANGUAGE_LENGTH
            and _LANGUAGE_CODE.fullmatch(self.code)
        ):
            raise SignalError(f"{_quote(self.code)} is not a language code such as 'nl'")

    def to_payload(self) -> dict[str, Any]:
        return {_SET_LANGUAGE: self.code}


@dataclass(frozen=True)
class ContinueByEmail:
    """The customer asked to continue by e-mail ("send me this by e-mail"): the gateway
    mails the latest answers to `address` and threads the replies into the conversation."""

    address: str

    def __post_init__(self) -> None:
        if not (
            isinstance(self.address, str)
            and len(self.address) <= _ADDRESS_LENGTH
            and _ADDRESS.fullmatch(self.address)
        ):
            raise SignalError(f"{_quote(self.address)} is not an e-mail address")

    def to_payload(self) -> dict[str, Any]:
        return {_CONTINUE_BY_EMAIL: self.address}


Signal = Handoff | Erase | SetLanguage | ContinueByEmail


def parse(payload: object) -> Signal | None:
    """The signal in an action's custom payload; None when there is no payload at all.

    Exactly the wire format of `to_payload`: one key, no extra fields, so that
    `parse(p).to_payload() == p` for every payload it accepts.
    """
    if payload is None or payload == {}:
        return None
    if not isinstance(payload, dict):
        raise SignalError(f"a signal is a JSON object, not {type(payload).__name__}")
    if len(payload) != 1:
        raise SignalError(f"a signal has exactly one key, not {_quote(sorted(map(str, payload)))}")
    [(key, value)] = payload.items()
    if key == _HANDOFF:
        return _handoff(value)
    if key == _ERASE:
        if value is not True:
            raise SignalError(f"erase must be true, not {_quote(value)}")
        return Erase()
    if key == _SET_LANGUAGE:
        return SetLanguage(value)
    if key == _CONTINUE_BY_EMAIL:
        return ContinueByEmail(value)
    raise SignalError(f"unknown signal {_quote(key)}")


def _handoff(value: object) -> Handoff:
    if not isinstance(value, dict):
        raise SignalError(f"handoff must be an object with reason and intent, not {_quote(value)}")
    if set(value) != {_REASON, _INTENT}:
        raise SignalError(
            f"handoff has the fields reason and intent, not {_quote(sorted(map(str, value)))}"
        )
    return Handoff(value[_REASON], value[_INTENT])
