"""Working hours in the agent's time zone, and times told to customers in theirs."""

from datetime import datetime

import pytest

from bot.handoff.hours import HoursError, WorkingHours, local_time, zone

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# 2026-11-23 is a Monday.
MONDAY_0830_UTC = datetime(2026, 11, 23, 8, 30)


def test_office_hours_in_amsterdam_are_read_in_amsterdam_time():
    hours = WorkingHours.parse("mon-fri 09:00-17:00", "Europe/Amsterdam")
    assert hours.is_open(MONDAY_0830_UTC)  # 09:30 in Amsterdam (UTC+1 in November)
    assert not hours.is_open(datetime(2026, 11, 23, 16, 30))  # 17:30 there
    assert not hours.is_open(datetime(2026, 11, 22, 10, 0))  # Sunday


def test_next_opening_after_friday_evening_is_monday_morning():
    hours = WorkingHours.parse("mon-fri 09:00-17:00", "Europe/Amsterdam")
    opening = hours.next_opening(datetime(2026, 11, 27, 18, 0))  # Friday 19:00 there
    assert local_time(opening, "Europe/Amsterdam", WEEKDAYS) == "Monday 09:00"
    # A customer in Tehran (UTC+3:30) is told their own time.
    assert local_time(opening, "Asia/Tehran", WEEKDAYS) == "Monday 11:30"


def test_several_spans_and_wrapping_day_ranges():
    hours = WorkingHours.parse("sat-sun 10:00-14:00, wed 20:00-24:00", "UTC")
    assert hours.is_open(datetime(2026, 11, 22, 11, 0))  # Sunday
    assert hours.is_open(datetime(2026, 11, 25, 23, 59))  # Wednesday night
    assert not hours.is_open(MONDAY_0830_UTC)


@pytest.mark.parametrize(
    ("text", "zone", "says"),
    [
        ("weekdays 9-5", "UTC", "cannot read working hours"),
        ("mon-fri 17:00-09:00", "UTC", "end must come after the start"),
        ("mon-fri 09:00-17:00", "Mars/Olympus", "unknown time zone"),
        ("xyz 09:00-17:00", "UTC", "unknown day"),
    ],
)
def test_unreadable_hours_say_what_is_wrong(text, zone, says):
    with pytest.raises(HoursError, match=says):
        WorkingHours.parse(text, zone)


def test_a_time_zone_name_too_long_for_a_file_is_an_unknown_zone():
    with pytest.raises(HoursError, match="unknown time zone"):
        zone("Z" * 300)
