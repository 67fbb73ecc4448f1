"""Business calendars: due times, open time, DST, published text and spec errors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from careflow.engine.calendars import (
    ALWAYS,
    AlwaysCalendar,
    BusinessCalendar,
    Calendar,
    CalendarSpecError,
)
from careflow.engine.zones import zone

NEW_YORK = zone("America/New_York")
PARIS = zone("Europe/Paris")
H = timedelta(hours=1)
M = timedelta(minutes=1)
EN_DASH = "\u2013"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def dashed(text: str) -> str:
    """Published text uses en dashes; write expectations with hyphens for readability."""
    return text.replace("-", EN_DASH)


def make(spec: dict[str, Any], name: str = "test") -> BusinessCalendar:
    return BusinessCalendar.from_spec(name, spec)


CARE_HOURS = make(
    {
        "timezone": "America/New_York",
        "hours": {"mon-fri": "08:00-20:00", "sat": "10:00-16:00"},
        "holidays": ["2026-12-25"],
    },
    "care-hours",
)
LUNCH_BREAK = make(
    {"timezone": "Europe/Paris", "hours": {"mon-fri": "09:00-12:00, 13:30-18:00"}}, "lunch-break"
)
NIGHT_DESK = make({"timezone": "UTC", "hours": {"daily": "22:00-06:00"}}, "night-desk")
OFFICE = make({"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}, "office")


# --------------------------------------------------------------------------- concrete due times


def test_chatwoot_example_due_exactly_at_closing_stays_on_friday() -> None:
    friday = utc(2026, 1, 9, 16)
    assert friday.weekday() == 4
    assert OFFICE.due(friday, H) == utc(2026, 1, 9, 17)


def test_chatwoot_example_rolls_over_the_weekend() -> None:
    assert OFFICE.due(utc(2026, 1, 9, 16, 30), H) == utc(2026, 1, 12, 9, 30)


def test_lunch_break_is_not_counted() -> None:
    # Paris is UTC+1 in January: Mon 11:30 local + 1h = 30 min before lunch, 30 min after.
    start = datetime(2026, 1, 12, 11, 30, tzinfo=PARIS)
    assert LUNCH_BREAK.due(start, H) == utc(2026, 1, 12, 13, 0)  # 14:00 local
    lunch = datetime(2026, 1, 12, 12, 45, tzinfo=PARIS)
    assert not LUNCH_BREAK.is_open(lunch)
    assert LUNCH_BREAK.next_open(lunch) == utc(2026, 1, 12, 12, 30)  # 13:30 local
    assert LUNCH_BREAK.open_time_between(utc(2026, 1, 12), utc(2026, 1, 13)) == timedelta(
        hours=7, minutes=30
    )


def test_overnight_range_runs_across_midnight() -> None:
    assert NIGHT_DESK.due(utc(2026, 1, 5, 23), 2 * H) == utc(2026, 1, 6, 1)
    assert NIGHT_DESK.due(utc(2026, 1, 5, 5, 30), 2 * H) == utc(2026, 1, 5, 23, 30)
    assert NIGHT_DESK.is_open(utc(2026, 1, 6, 0, 0))
    assert not NIGHT_DESK.is_open(utc(2026, 1, 6, 6, 0))
    assert NIGHT_DESK.is_open(utc(2026, 1, 6, 5, 59, 59, 999999))


def test_overnight_range_across_a_weekend() -> None:
    # The Thursday night shift ends Friday 06:00; the next shift starts Sunday 22:00.
    nights = make({"timezone": "UTC", "hours": {"sun-thu": "22:00-06:00"}})
    assert nights.is_open(utc(2026, 1, 9, 5, 59))  # Friday morning, Thursday's shift
    assert not nights.is_open(utc(2026, 1, 9, 22, 0))  # Friday night
    assert not nights.is_open(utc(2026, 1, 10, 2, 0))  # Saturday
    assert nights.due(utc(2026, 1, 9, 5), 2 * H) == utc(2026, 1, 11, 23)


def test_holiday_pushes_due_time_to_the_next_open_day() -> None:
    # Thu 24 Dec 19:30 EST; Fri 25 Dec is a holiday; Sat opens 10:00 EST (15:00 UTC).
    start = datetime(2026, 12, 24, 19, 30, tzinfo=NEW_YORK)
    assert CARE_HOURS.due(start, H) == utc(2026, 12, 26, 15, 30)
    assert not CARE_HOURS.is_open(datetime(2026, 12, 25, 12, 0, tzinfo=NEW_YORK))


def test_holiday_closes_only_ranges_that_start_on_it() -> None:
    desk = make({"timezone": "UTC", "hours": {"daily": "22:00-06:00"}, "holidays": ["2026-12-25"]})
    assert desk.is_open(utc(2026, 12, 25, 2))  # 24 Dec's shift runs into the holiday
    assert not desk.is_open(utc(2026, 12, 25, 23))
    assert not desk.is_open(utc(2026, 12, 26, 1))
    assert desk.next_open(utc(2026, 12, 25, 6)) == utc(2026, 12, 26, 22)


def test_post_arriving_when_closed_starts_at_next_opening() -> None:
    sunday = datetime(2026, 1, 11, 10, 0, tzinfo=NEW_YORK)
    assert not CARE_HOURS.is_open(sunday)
    assert CARE_HOURS.next_open(sunday) == utc(2026, 1, 12, 13)  # Mon 08:00 EST
    assert CARE_HOURS.due(sunday, H) == utc(2026, 1, 12, 14)
    assert CARE_HOURS.due(sunday, timedelta(0)) == utc(2026, 1, 12, 13)


def test_open_instant_is_its_own_next_open() -> None:
    at = datetime(2026, 1, 12, 9, 0, tzinfo=NEW_YORK)
    assert CARE_HOURS.is_open(at)
    assert CARE_HOURS.next_open(at) == at
    assert CARE_HOURS.due(at, timedelta(0)) == at


def test_results_are_utc() -> None:
    start = datetime(2026, 1, 12, 9, 0, tzinfo=NEW_YORK)
    for result in (CARE_HOURS.due(start, H), CARE_HOURS.next_open(start), ALWAYS.due(start, H)):
        assert result.tzinfo is UTC


def test_whole_day_ranges_touch_without_gaps() -> None:
    round_the_clock = make({"timezone": "America/New_York", "hours": {"daily": "00:00-24:00"}})
    start = utc(2026, 3, 7, 12)
    assert round_the_clock.due(start, timedelta(days=3)) == start + timedelta(days=3)
    assert round_the_clock.describe_hours() == dashed("daily 00:00-24:00")


# --------------------------------------------------------------------------- DST (New York)
# 2026: clocks spring forward Sun 8 Mar 02:00 EST -> 03:00 EDT (07:00 UTC) and
# fall back Sun 1 Nov 02:00 EDT -> 01:00 EST (06:00 UTC).


def test_spring_forward_interval_is_one_real_hour() -> None:
    early = make({"timezone": "America/New_York", "hours": {"daily": "01:00-03:00"}})
    day = (utc(2026, 3, 8), utc(2026, 3, 9))
    assert early.open_time_between(*day) == H  # 06:00-07:00 UTC
    # 1h30m from 01:00 EST: one hour that night, 30 minutes from 01:00 EDT the next night.
    assert early.due(utc(2026, 3, 8, 6), 90 * M) == utc(2026, 3, 9, 5, 30)


def test_fall_back_interval_is_three_real_hours() -> None:
    early = make({"timezone": "America/New_York", "hours": {"daily": "01:00-03:00"}})
    assert early.open_time_between(utc(2026, 11, 1), utc(2026, 11, 2)) == 3 * H  # 05:00-08:00
    assert early.due(utc(2026, 11, 1, 5), 150 * M) == utc(2026, 11, 1, 7, 30)


def test_time_inside_spring_forward_gap_opens_when_the_gap_ends() -> None:
    gap = make({"timezone": "America/New_York", "hours": {"daily": "02:30-04:00"}})
    assert gap.next_open(utc(2026, 3, 8, 5)) == utc(2026, 3, 8, 7)  # 03:00 EDT
    assert gap.open_time_between(utc(2026, 3, 8), utc(2026, 3, 9)) == H


def test_range_wholly_inside_the_gap_is_skipped() -> None:
    gap = make(
        {"timezone": "America/New_York", "hours": {"sun": "02:00-02:30", "mon": "09:00-10:00"}}
    )
    assert gap.next_open(utc(2026, 3, 8)) == utc(2026, 3, 9, 13)  # Mon 09:00 EDT
    assert gap.next_open(utc(2026, 3, 1)) == utc(2026, 3, 1, 7)  # the Sunday before: 02:00 EST


def test_ambiguous_opening_uses_first_occurrence() -> None:
    repeat = make({"timezone": "America/New_York", "hours": {"daily": "01:30-02:30"}})
    # Opens 01:30 EDT (05:30 UTC), closes 02:30 EST (07:30 UTC).
    assert repeat.next_open(utc(2026, 11, 1, 4)) == utc(2026, 11, 1, 5, 30)
    assert repeat.open_time_between(utc(2026, 11, 1), utc(2026, 11, 2)) == 2 * H


def test_business_hours_across_spring_forward() -> None:
    # Sat 7 Mar 15:30 EST (20:30 UTC): 30 min on Saturday, 30 min from Mon 08:00 EDT (12:00 UTC).
    assert CARE_HOURS.due(utc(2026, 3, 7, 20, 30), H) == utc(2026, 3, 9, 12, 30)


def test_business_hours_across_fall_back() -> None:
    # Sat 31 Oct 15:30 EDT (19:30 UTC): 30 min on Saturday, 30 min from Mon 08:00 EST (13:00 UTC).
    assert CARE_HOURS.due(utc(2026, 10, 31, 19, 30), H) == utc(2026, 11, 2, 13, 30)


# --------------------------------------------------------------------------- argument checks


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 1, 12, 9)
    calendars: list[Calendar] = [CARE_HOURS, ALWAYS]
    for calendar in calendars:
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.due(naive, H)
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.is_open(naive)
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.next_open(naive)
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.open_time_between(utc(2026, 1, 1), naive)


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        CARE_HOURS.due(utc(2026, 1, 12), -H)
    with pytest.raises(ValueError, match="negative"):
        ALWAYS.due(utc(2026, 1, 12), -H)


def test_runaway_scan_gives_up() -> None:
    sparse = make({"timezone": "UTC", "hours": {"mon": "09:00-09:01"}})
    with pytest.raises(ValueError, match="4000 days"):
        sparse.due(utc(2026, 1, 1), timedelta(days=30))


def test_open_time_between_empty_or_reversed_span() -> None:
    assert CARE_HOURS.open_time_between(utc(2026, 1, 12, 15), utc(2026, 1, 12, 15)) == timedelta(0)
    assert CARE_HOURS.open_time_between(utc(2026, 1, 12, 16), utc(2026, 1, 12, 15)) == timedelta(0)


# --------------------------------------------------------------------------- always


def test_always_calendar() -> None:
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    assert ALWAYS.name == "always"
    assert isinstance(ALWAYS, AlwaysCalendar)
    assert ALWAYS.is_open(start)
    assert ALWAYS.next_open(start) == start
    assert ALWAYS.due(start, 2 * H) == utc(2026, 3, 8, 8, 30)  # real time across the DST jump
    assert ALWAYS.due(start, timedelta(0)) == start
    assert ALWAYS.open_time_between(start, utc(2026, 3, 8, 11, 30)) == 5 * H
    # Aware-datetime arithmetic in a local zone is wall-clock: +5h across spring-forward is 4h.
    assert ALWAYS.open_time_between(start, start + 5 * H) == 4 * H
    assert ALWAYS.open_time_between(start, start - H) == timedelta(0)
    assert ALWAYS.describe_hours() == "around the clock"
    assert ALWAYS.describe_holidays() == ""


# --------------------------------------------------------------------------- value semantics


def test_calendars_are_frozen_values() -> None:
    again = make(
        {
            "timezone": "America/New_York",
            "hours": {"SAT": "10:00-16:00", "Mon - Fri": ["08:00-20:00"]},
            "holidays": ["2026-12-25", "2026-12-25"],
        },
        "care-hours",
    )
    assert again == CARE_HOURS
    assert hash(again) == hash(CARE_HOURS)
    assert again != make({"timezone": "America/Chicago", "hours": {"mon-fri": "08:00-20:00"}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.name = "other"  # type: ignore[misc]


def test_day_keys_wrap_and_lists() -> None:
    weekend = make({"timezone": "UTC", "hours": {"fri-mon": "10:00-14:00", "Tue,Wed": "closed"}})
    assert [weekend.is_open(utc(2026, 1, day, 11)) for day in range(5, 12)] == [
        True,  # Mon 5 Jan
        False,
        False,
        False,
        True,  # Fri
        True,
        True,  # Sun 11 Jan
    ]


# --------------------------------------------------------------------------- published text


def test_describe_hours_groups_consecutive_days() -> None:
    assert CARE_HOURS.describe_hours() == dashed("Mon-Fri 08:00-20:00, Sat 10:00-16:00")
    assert LUNCH_BREAK.describe_hours() == dashed("Mon-Fri 09:00-12:00 & 13:30-18:00")
    assert NIGHT_DESK.describe_hours() == dashed("daily 22:00-06:00")
    mixed = make(
        {
            "timezone": "UTC",
            "hours": {"mon,tue": "09:00-17:00", "wed": "12:00-17:00", "thu-sun": "09:00-17:00"},
        }
    )
    assert mixed.describe_hours() == dashed(
        "Mon-Tue 09:00-17:00, Wed 12:00-17:00, Thu-Sun 09:00-17:00"
    )
    assert make({"timezone": "UTC", "hours": {"sun": "10:00-12:00"}}).describe_hours() == (
        dashed("Sun 10:00-12:00")
    )


def test_describe_holidays() -> None:
    assert CARE_HOURS.describe_holidays() == "closed on 25 Dec 2026"
    assert OFFICE.describe_holidays() == ""
    several = make(
        {
            "timezone": "UTC",
            "hours": {"mon-fri": "09:00-17:00"},
            "holidays": ["2027-01-01", "2026-11-26", "2026-12-25"],
        }
    )
    assert several.describe_holidays() == "closed on 26 Nov 2026, 25 Dec 2026 and 1 Jan 2027"
    assert several.holidays == (date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1))


# --------------------------------------------------------------------------- spec errors


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        (
            {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00", "tues": "09:00-12:00"}},
            ("hours", "tues"),
            "unknown day 'tues' (did you mean 'tue'?)",
        ),
        (
            {"timezone": "UTC", "hours": {"wednesday": "09:00-12:00"}},
            ("hours", "wednesday"),
            "unknown day 'wednesday' (did you mean 'wed'?)",
        ),
        (
            {"timezone": "UTC", "hours": {"mon-fri": "8:00-20:00"}},
            ("hours", "mon-fri"),
            "invalid time range '8:00-20:00': use HH:MM-HH:MM, e.g. 08:00-20:00",
        ),
        (
            {"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "13:00-25:00"]}},
            ("hours", "mon", 1),
            "invalid time range '13:00-25:00': times run from 00:00 to 24:00, e.g. 08:00-20:00",
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-09:00"}},
            ("hours", "mon"),
            "empty time range '09:00-09:00': to stay open around the clock write 00:00-24:00",
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-12:00, 11:30-18:00"}},
            ("hours", "mon"),
            "overlapping time ranges '09:00-12:00' and '11:30-18:00'",
        ),
        (
            {"timezone": "UTC", "hours": {"fri": "22:00-06:00", "sat": "05:00-09:00"}},
            ("hours", "fri"),
            "overnight range '22:00-06:00' on fri runs into '05:00-09:00' on sat",
        ),
        (
            {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00", "sat,fri": "10:00-12:00"}},
            ("hours", "sat,fri"),
            "day 'fri' is listed twice: in 'mon-fri' and 'sat,fri'",
        ),
        (
            {"timezone": "America/NewYork", "hours": {"mon": "09:00-17:00"}},
            ("timezone",),
            "unknown time zone 'America/NewYork' (did you mean 'America/New_York'?)",
        ),
        (
            {"hours": {"mon": "09:00-17:00"}},
            ("timezone",),
            "missing time zone: add an IANA name, e.g. timezone: America/New_York",
        ),
        (
            {
                "timezone": "UTC",
                "hours": {"mon": "09:00-17:00"},
                "holidays": ["2026-12-25", "25/12"],
            },
            ("holidays", 1),
            "invalid holiday date '25/12': use YYYY-MM-DD, e.g. 2026-12-25",
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["2026-02-30"]},
            ("holidays", 0),
            "invalid holiday date '2026-02-30': no such date in the calendar",
        ),
        (
            {"timezone": "UTC", "hours": {"mon-fri": "closed", "sat,sun": ["closed"]}},
            ("hours",),
            "no open hours: every day is closed, so no response window could ever end",
        ),
        (
            {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holiday": []},
            ("holiday",),
            "unknown calendar key 'holiday' (did you mean 'holidays'?)",
        ),
    ],
)
def test_spec_errors(spec: dict[str, Any], path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(CalendarSpecError) as caught:
        make(spec)
    assert caught.value.path == path
    assert caught.value.message == message
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_first_error_wins() -> None:
    spec = {"timezone": "Mars/Olympus", "hours": {"tues": "9-5"}, "holidays": ["soon"]}
    with pytest.raises(CalendarSpecError) as caught:
        make(spec)
    assert caught.value.path == ("timezone",)


# --------------------------------------------------------------------------- properties

PROPERTY_CALENDARS = [
    CARE_HOURS,
    LUNCH_BREAK,
    # Overnight shifts straddling both New York DST changes, and weekday lunch breaks.
    make(
        {
            "timezone": "America/New_York",
            "hours": {"fri-sun": "20:00-03:00", "mon-thu": "09:00-12:00, 13:00-17:00"},
            "holidays": ["2026-07-04", "2027-03-14"],
        }
    ),
    # Ranges starting inside the spring-forward gap and in the repeated fall-back hour.
    make({"timezone": "America/New_York", "hours": {"daily": "02:30-04:00, 23:00-01:30"}}),
    NIGHT_DESK,
]
ZONES = [UTC, NEW_YORK, PARIS, zone("Asia/Kolkata")]
FAST = settings(max_examples=100, deadline=None)

calendars = st.sampled_from(PROPERTY_CALENDARS)
starts = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(ZONES),
)
durations = st.integers(min_value=1, max_value=10 * 86400).map(lambda s: timedelta(seconds=s))


@FAST
@given(calendars, starts, durations)
def test_due_lands_at_the_end_of_open_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.due(start, duration)
    assert due.tzinfo is UTC
    assert due > start
    assert calendar.is_open(due - timedelta(microseconds=1))
    assert calendar.open_time_between(start, due) == duration


@FAST
@given(calendars, starts, starts, durations)
def test_due_is_monotonic_in_start(
    calendar: BusinessCalendar, first: datetime, second: datetime, duration: timedelta
) -> None:
    early, late = sorted([first, second])
    assert calendar.due(early, duration) <= calendar.due(late, duration)


@FAST
@given(calendars, starts, durations, durations)
def test_due_is_strictly_increasing_in_duration(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    assume(first != second)
    short, long = sorted([first, second])
    assert calendar.due(start, short) < calendar.due(start, long)


@FAST
@given(calendars, starts, durations, durations)
def test_due_composes(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    assert calendar.due(calendar.due(start, first), second) == calendar.due(start, first + second)


@FAST
@given(calendars, starts)
def test_next_open_is_open_and_nothing_before_it_is(
    calendar: BusinessCalendar, start: datetime
) -> None:
    opening = calendar.next_open(start)
    assert opening >= start
    assert calendar.is_open(opening)
    assert calendar.due(start, timedelta(0)) == opening
    assert calendar.open_time_between(start, opening) == timedelta(0)


@FAST
@given(starts)
def test_is_open_matches_the_wall_clock_away_from_dst(start: datetime) -> None:
    """An independent reading of the care-hours spec, valid where no clock change is near."""
    local = start.astimezone(NEW_YORK)
    assume(
        (local - 4 * H).astimezone(NEW_YORK).utcoffset()
        == local.utcoffset()
        == (local + 4 * H).astimezone(NEW_YORK).utcoffset()
    )
    minutes = local.hour * 60 + local.minute
    weekday = local.weekday()
    if local.date() == date(2026, 12, 25) or weekday == 6:
        expected = False
    elif weekday == 5:
        expected = 10 * 60 <= minutes < 16 * 60
    else:
        expected = 8 * 60 <= minutes < 20 * 60
    assert CARE_HOURS.is_open(start) == expected


def test_range_spellings() -> None:
    spaced = make(
        {"timezone": "UTC", "hours": {"daily": ["09:00 - 12:00", "13:00\u201314:00, 20:00-22:00"]}}
    )
    assert spaced.describe_hours() == dashed("daily 09:00-12:00 & 13:00-14:00 & 20:00-22:00")
    late = make({"timezone": "UTC", "hours": {"mon": "22:00-24:00", "tue": "00:00-02:00"}})
    assert late.due(utc(2026, 1, 5, 23), 2 * H) == utc(2026, 1, 6, 1)
