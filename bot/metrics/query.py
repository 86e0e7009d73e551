"""Which slice of the data a figure is about: a period, and optionally a language and a
channel. The report, the console's dashboard and /metrics all ask with a `Query`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import utcnow

_SINCE = re.compile(r"^\s*(\d{1,4})\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class QueryError(ValueError):
    """A period, language or channel that cannot be asked for; the message says why."""


@dataclass(frozen=True)
class Query:
    start: datetime  # naive UTC, inclusive
    end: datetime  # naive UTC, exclusive
    language: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise QueryError("the period must end after it starts")

    def covers(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def wants(self, language: str | None, channel: str | None) -> bool:
        """Whether something in this language and on this channel is in the slice."""
        return (self.language is None or language == self.language) and (
            self.channel is None or channel == self.channel
        )

    def describe(self) -> str:
        what = [f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"]
        if self.language:
            what.append(f"language {self.language}")
        if self.channel:
            what.append(f"channel {self.channel}")
        return ", ".join(what)


def since(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """("7d" → the last seven days up to now): 30m, 12h, 7d, 4w."""
    match = _SINCE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise QueryError(f"--since takes a count and a unit (30m, 12h, 7d, 4w), not {text!r}")
    end = now or utcnow()
    return end - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}), end
