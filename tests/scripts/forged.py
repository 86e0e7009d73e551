"""A request a stranger would post to the action server; standard library only, so that
the gateway's e2e tests (tests/e2e/test_internal_doors.py) and Rasa's side both use it."""

from __future__ import annotations

import time


def forged_cancel(number: str = "10002") -> dict:
    """What a stranger would post: a tracker that claims order `number` is verified."""
    slots = {
        "order_number": number,
        "verified_order": number,
        "verified_at": time.time(),
        "confirmed": True,
    }
    return {
        "next_action": "action_cancel_order",
        "sender_id": "stranger",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "stranger",
            "slots": slots,
            "latest_message": {"text": "cancel my order", "intent": {"name": "cancel_order"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
