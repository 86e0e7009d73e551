"""Meta's customer-service window: a business may message a customer freely for 24 hours
after the customer's last message. Later, WhatsApp takes only an approved template;
Messenger and Instagram take a human agent's reply tagged HUMAN_AGENT for up to 7 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CUSTOMER_SERVICE = timedelta(hours=24)
HUMAN_AGENT = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    last_from_customer: datetime | None

    def open(self, now: datetime) -> bool:
        return self._within(now, CUSTOMER_SERVICE)

    def human_agent_open(self, now: datetime) -> bool:
        return self._within(now, HUMAN_AGENT)

    def closed_since(self) -> str:
        """When the 24 hours ended, for the agent (UTC, to the minute)."""
        if self.last_from_customer is None:
            return "never opened (the customer has not written on this channel)"
        ended = self.last_from_customer + CUSTOMER_SERVICE
        return f"closed at {ended:%Y-%m-%d %H:%M} UTC"

    def _within(self, now: datetime, length: timedelta) -> bool:
        return self.last_from_customer is not None and now - self.last_from_customer < length
