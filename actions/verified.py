"""Whether this session has checked an order, and for how long that counts.

A verified order (order number + e-mail checked by the shop, actions/forms.py) unlocks
the account actions for 30 minutes of the session that checked it, never longer and never
in a later session: whoever holds a sender id later (a shared device, a guessed REST
sender) must prove the order again. domain.yml does not carry slots into a new session;
the check below does not rely on that alone (a tracker restored from an older version, a
session started without the slots being reset).
"""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

VERIFIED_FOR_SECONDS = 30 * 60
# Every slot that says something about a checked order or its owner.
VERIFICATION_SLOTS = ("verified_order", "verified_at", "customer_name")


def verified_order(tracker: Tracker, now: float | None = None) -> str | None:
    """The order number checked in this session within the last 30 minutes, else None."""
    order, at = tracker.get_slot("verified_order"), tracker.get_slot("verified_at")
    if not order or isinstance(at, bool) or not isinstance(at, (int, float)):
        return None
    now = time.time() if now is None else now
    if not 0 <= now - at <= VERIFIED_FOR_SECONDS:
        return None
    if at < session_started_at(tracker):
        return None  # checked in an earlier session
    return order


def session_started_at(tracker: Tracker) -> float:
    """When the tracker's current session began (0 when it never marked one)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "session_started":
            stamp = event.get("timestamp")
            return float(stamp) if isinstance(stamp, (int, float)) else 0.0
    return 0.0


def stale_verification(tracker: Tracker, now: float | None = None) -> bool:
    """A verification is on the tracker but no longer counts (expired, earlier session)."""
    return bool(tracker.get_slot("verified_order")) and verified_order(tracker, now) is None


def verified(number: str, name: str, now: float | None = None) -> list[dict[str, Any]]:
    """The events that record a successful check of `number` now."""
    at = time.time() if now is None else now
    return [
        SlotSet("verified_order", number),
        SlotSet("verified_at", at),
        SlotSet("customer_name", name),
    ]


def forget_verification() -> list[dict[str, Any]]:
    """The order's owner is not known (any more): the e-mail given for it goes too, so that
    it has to be typed again."""
    return [SlotSet(slot, None) for slot in VERIFICATION_SLOTS] + [SlotSet("email", None)]
