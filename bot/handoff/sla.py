"""First-response targets per priority and channel, and the alerts before and at a breach.

`TOLK_SLA` sets the targets: `hot=5m,cold=30m,email:cold=4h,whatsapp:hot=10m`. A target
named with a channel wins over the plain one for tickets from that channel. A ticket's
due time (`sla_due_at`) and its warning time (`sla_warn_at`, when `TOLK_SLA_WARN_AT` of the
target has passed: 0.8 of 5 minutes is 4) are set when it opens, from the team's opening
when it arrives after hours, so that changing the policy never moves a promise already
made.

`SlaWatch` runs with the handoff sweep: a ticket still without an agent's reply at its
warning time, and again at its due time, gets one alert each: a row in `alerts` (the
console pushes it to every agent) and a POST to `TOLK_ALERT_WEBHOOK_URL`. Each alert is
claimed in the database first, so with several gateway replicas exactly one sends it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.db import utcnow

if TYPE_CHECKING:
    from bot.alerts import Alerts
    from bot.handoff.tickets import Ticket, TicketStore

PRIORITIES = ("hot", "cold")
DEFAULT_TARGETS = {"hot": timedelta(minutes=5), "cold": timedelta(minutes=30)}
DEFAULT_WARN_AT = 0.8
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENTRY = re.compile(r"(?:([a-z]{1,32}):)?([a-z]{1,16})=(\d{1,6})([smhd])")


class SlaPolicyError(ValueError):
    """TOLK_SLA cannot be read; the message says which entry and why."""


@dataclass(frozen=True)
class SlaPolicy:
    targets: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    # (channel, priority) -> target, for the channels named in TOLK_SLA
    by_channel: dict[tuple[str, str], timedelta] = field(default_factory=dict)
    warn_at: float = DEFAULT_WARN_AT

    @classmethod
    def parse(cls, raw: str | None, warn_at: float = DEFAULT_WARN_AT) -> SlaPolicy:
        targets = dict(DEFAULT_TARGETS)
        by_channel: dict[tuple[str, str], timedelta] = {}
        for entry in (raw or "").split(","):
            entry = entry.strip().lower()
            if not entry:
                continue
            matched = _ENTRY.fullmatch(entry)
            if matched is None:
                raise SlaPolicyError(
                    f"TOLK_SLA: {entry[:40]!r} is not [channel:]priority=duration "
                    "(for example hot=5m, email:cold=4h; units s, m, h, d)"
                )
            channel, priority, amount, unit = matched.groups()
            if priority not in PRIORITIES:
                raise SlaPolicyError(
                    f"TOLK_SLA: unknown priority {priority!r} in {entry!r}; "
                    f"priorities are {', '.join(PRIORITIES)}"
                )
            target = timedelta(seconds=int(amount) * _UNITS[unit])
            if target <= timedelta(0):
                raise SlaPolicyError(f"TOLK_SLA: {entry!r}: a target must be longer than 0")
            if channel:
                by_channel[(channel, priority)] = target
            else:
                targets[priority] = target
        if not 0 < warn_at < 1:
            raise SlaPolicyError(f"TOLK_SLA_WARN_AT must be between 0 and 1, got {warn_at}")
        return cls(targets, by_channel, warn_at)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(channel for channel, _ in self.by_channel)

    def target(self, priority: str, channel: str) -> timedelta:
        found = self.by_channel.get((channel, priority))
        return found if found is not None else self.targets[priority]

    def times(self, priority: str, channel: str, start: datetime) -> tuple[datetime, datetime]:
        """(warn at, due at) for a ticket whose clock starts at `start`."""
        target = self.target(priority, channel)
        return start + target * self.warn_at, start + target

    def describe(self) -> str:
        plain = [f"{p} {_short(t)}" for p, t in self.targets.items()]
        channels = [f"{c} {p} {_short(t)}" for (c, p), t in sorted(self.by_channel.items())]
        return ", ".join(plain + channels)


def _short(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class SlaWatch:
    """One round: the warnings and breach alerts that are due, each sent once."""

    def __init__(
        self, tickets: TicketStore, alerts: Alerts, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._tickets = tickets
        self._alerts = alerts
        self._clock = clock

    async def run(self) -> None:
        now = self._clock()
        warnings, breaches = await self._tickets.sla_alerts_due(now)
        for ticket in warnings:
            if await self._tickets.claim_sla_alert(ticket.id, "warning", now):
                left = _minutes_left(ticket.sla_due_at - now)
                text = (
                    f"SLA warning: ticket {ticket.id} ({_about(ticket)}) has no reply yet; "
                    f"due in {left} min, at {ticket.sla_due_at:%H:%M} UTC"
                )
                await self._alerts.add("sla_warning", text, ticket.id, **_details(ticket))
        for ticket in breaches:
            if await self._tickets.claim_sla_alert(ticket.id, "breach", now):
                late = _minutes_ago(now - ticket.sla_due_at)
                text = (
                    f"SLA breached: ticket {ticket.id} ({_about(ticket)}) had no reply by "
                    f"{ticket.sla_due_at:%H:%M} UTC ({late} min ago)"
                )
                await self._alerts.add("sla_breach", text, ticket.id, **_details(ticket))


def _about(ticket: Ticket) -> str:
    waiting = "waiting" if ticket.status == "queued" else f"with {ticket.agent_name}"
    return f"{ticket.priority}, {ticket.channel}, {ticket.language}, {ticket.reason}, {waiting}"


def _details(ticket: Ticket) -> dict:
    return {
        "priority": ticket.priority,
        "channel": ticket.channel,
        "language": ticket.language,
        "reason": ticket.reason,
        "status": ticket.status,
        "due_at": ticket.sla_due_at.isoformat(timespec="seconds") + "Z",
    }


def _minutes_left(delta: timedelta) -> int:
    """Whole minutes, rounded up: "due in 4 min" with 3½ left, never "due in 0 min"."""
    return max(1, math.ceil(delta.total_seconds() / 60))


def _minutes_ago(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds() / 60))
