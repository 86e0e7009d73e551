"""An action that blocks the action server's event loop, for the stop-within-bounds test."""

from __future__ import annotations

import time

from rasa_sdk import Action


class ActionHang(Action):
    def name(self) -> str:
        return "action_hang"

    def run(self, dispatcher, tracker, domain):
        time.sleep(120)  # blocking on purpose: the loop cannot run Sanic's signal handler
        return []
