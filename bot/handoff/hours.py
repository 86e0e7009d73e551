"""Working hours in an agent's own time zone: "mon-fri 09:00-17:00, sat 10:00-14:00"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "mon-sun 00:00-24:00"
_SPAN = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)


class HoursError(ValueError):
    """Working hours or a time zone that cannot be read; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # OSError: with the tzdata package installed, a name too long for a file name fails
    # when zoneinfo opens it ("File name too long") instead of as an unknown zone.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise HoursError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Amsterdam)"
        ) from None


@dataclass(frozen=True)
class WorkingHours:
    # Per weekday (0 = Monday): (start minute, end minute) pairs, local time.
    spans: tuple[tuple[tuple[int, int], ...], ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone_name: str) -> WorkingHours:
        spans: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        for part in (p.strip().lower() for p in text.split(",")):
            match = _SPAN.match(part)
            if not match:
                raise HoursError(f"cannot read working hours {part!r}; write e.g. {ALWAYS!r}")
            first, last = match["first"], match["last"] or match["first"]
            if first not in DAYS or last not in DAYS:
                raise HoursError(f"unknown day in {part!r}; days are {', '.join(DAYS)}")
            start, end = _minutes(match["start"]), _minutes(match["end"])
            if not 0 <= start < end <= 24 * 60:
                raise HoursError(f"{part!r}: the end must come after the start, within a day")
            day, stop = DAYS.index(first), DAYS.index(last)
            while True:
                spans[day].append((start, end))
                if day == stop:
                    break
                day = (day + 1) % 7
        return cls(tuple(tuple(sorted(day)) for day in spans), zone(zone_name))

    def is_open(self, moment: datetime) -> bool:
        local = _aware(moment).astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.spans[local.weekday()])

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next start of working hours after `moment` (aware, UTC), within a week."""
        local = _aware(moment).astimezone(self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for start, _ in self.spans[day.weekday()]:
                opening = datetime.combine(day, time(start // 60, start % 60), self.zone)
                if opening > local:
                    return opening.astimezone(timezone.utc)
        return None


def _minutes(clock: str) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(f"{clock!r} is not a time of day")
    return hours * 60 + minutes


def _aware(moment: datetime) -> datetime:
    # The database keeps naive UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_time(moment: datetime, zone_name: str, weekdays: list[str]) -> str:
    """ "Monday 09:00" in the given zone."""
    local = _aware(moment).astimezone(zone(zone_name))
    day = weekdays[local.weekday()] if len(weekdays) == 7 else DAYS[local.weekday()]
    return f"{day} {local:%H:%M}"
