"""Many customers about one topic within minutes: the leads are alerted, once per window.

What counts is customers, not tickets: most customers who meet a shared problem ("my
payment fails") are answered by the bot and never ask for a person, so a surge of tickets
comes late or never. Each customer message carries the intent Rasa gave it (recorded by
/nlg, bot/outcomes.py); a surge is `count` different conversations whose messages had the
same intent within the last `window` (one customer asking three times is one customer).
Intents that say nothing about a problem (greetings, thanks, "a person please", not
understood) never count.

Alerting once: the `surge_alerts` row of the intent is the claim. One UPDATE moves its
time when the last alert is older than the window, or one INSERT makes it; the database
decides between replicas that see the surge at the same moment (like bot/leases.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts import Alerts
from bot.db import messages, surge_alerts, utcnow
from bot.errors import StoreConflict
from bot.prepared import Prepared, statements
from bot.settings import Settings

log = logging.getLogger(__name__)

KIND = "surge"
# Intents that name no problem many customers might share.
GENERIC_INTENTS = frozenset(
    {
        "nlu_fallback",
        "out_of_scope",
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "inform",
        "bot_challenge",
        "request_human",
        "complain",
        "change_language",
        "leave_feedback",
        "faq",  # a FAQ without its question (the response selector gave none)
    }
)


def counts(intent: str | None) -> bool:
    """Whether a message with this intent may be part of a surge (or of an incident)."""
    return bool(intent) and intent not in GENERIC_INTENTS


# How long a replica that lost the claim for an intent's alert waits before it counts again.
_LOOK_AGAIN = timedelta(seconds=30)
# Counted after every customer message about an intent that counts, so built once (see
# bot/store.py on why).
_CUSTOMERS = Prepared(
    select(func.count(messages.c.conversation_id.distinct())).where(
        messages.c.author == "customer",
        messages.c.intent == bindparam("about"),
        messages.c.created_at >= bindparam("since", type_=DateTime),
    )
)


@dataclass(frozen=True)
class SurgePolicy:
    count: int = 3
    window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> SurgePolicy:
        return cls(settings.surge_count, timedelta(minutes=settings.surge_minutes))

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)


class SurgeWatch:
    def __init__(
        self,
        engine: AsyncEngine,
        alerts: Alerts | None,
        policy: SurgePolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._alerts = alerts
        self.policy = policy
        self.clock = clock
        # Until when this process knows an intent's surge was alerted (here or by another
        # replica): checks meanwhile cannot alert, so they skip the database (under a
        # surge, every message about it would otherwise count and try to claim).
        self._quiet: dict[str, datetime] = {}

    async def customers(self, intent: str, now: datetime) -> int:
        """Different conversations that asked about `intent` within the window."""
        async with statements(self._engine) as run:
            return await run.scalar(
                _CUSTOMERS, {"about": intent, "since": now - self.policy.window}
            )

    async def check(self, intent: str | None) -> bool:
        """After a customer message about `intent`: alert the leads if that makes a surge
        nobody was alerted to within the window. Whether this call alerted."""
        if not counts(intent) or self._alerts is None:
            return False
        now = self.clock()
        quiet = self._quiet.get(intent)
        if quiet is not None and now < quiet:
            return False
        found = await self.customers(intent, now)
        if found < self.policy.count:
            return False
        if not await self._claim(intent, now):
            # Another replica alerted within the window, when exactly is not known here:
            # look again in a while.
            self._quiet[intent] = now + min(_LOOK_AGAIN, self.policy.window)
            return False
        self._quiet[intent] = now + self.policy.window
        text = (
            f"{found} customers asked about {intent} within {self.policy.minutes} minutes: "
            "if something is broken, publish an incident notice (Incidents)"
        )
        await self._alerts.add(KIND, text, intent=intent, customers=found)
        log.info("surge of %s: %s customers", intent, found)
        return True

    async def _claim(self, intent: str, now: datetime) -> bool:
        async with self._engine.begin() as connection:
            moved = await connection.execute(
                update(surge_alerts)
                .where(
                    surge_alerts.c.intent == intent,
                    surge_alerts.c.alerted_at <= now - self.policy.window,
                )
                .values(alerted_at=now)
            )
        if moved.rowcount == 1:
            return True
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(surge_alerts).values(intent=intent, alerted_at=now))
        except StoreConflict:  # alerted within the window, or another replica just now
            return False
        return True
