"""Calendars take their zones from the pinned ``tzdata`` package, never the machine's tz database.

British Columbia (America/Vancouver) stays on UTC-7 all year from November 2026 (IANA 2026 data);
older tz databases, such as many systems' /usr/share/zoneinfo, still fall back to UTC-8. The
same rule file must give the same deadlines on every worker and on every replay.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from careflow.engine.calendars import BusinessCalendar, CalendarSpecError
from careflow.engine.zones import TZDATA_VERSION, zone, zone_names

VANCOUVER_HOURS = {"timezone": "America/Vancouver", "hours": {"mon-fri": "08:00-17:00"}}


def test_vancouver_opens_at_8_local_on_utc_minus_7_after_november_2026() -> None:
    calendar = BusinessCalendar.from_spec("bc", VANCOUVER_HOURS)
    sunday_night = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # Sunday 20:00 in Vancouver
    assert calendar.next_open(sunday_night) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    # A 30-minute window from Friday 16:45 local: 15 minutes on Friday, 15 on Monday morning.
    friday = datetime(2026, 11, 6, 23, 45, tzinfo=UTC)
    assert calendar.due(friday, timedelta(minutes=30)) == datetime(2026, 11, 9, 15, 15, tzinfo=UTC)


@pytest.fixture
def wrong_system_zones(tmp_path: Path) -> Iterator[None]:
    """A machine tz database that says Pacific/Chatham is UTC: only ``tzdata`` knows better."""
    (tmp_path / "Pacific").mkdir()
    (tmp_path / "Pacific" / "Chatham").write_bytes(
        (resources.files("tzdata") / "zoneinfo" / "UTC").read_bytes()
    )
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    zoneinfo.ZoneInfo.clear_cache()
    zone.cache_clear()
    try:
        chatham = zoneinfo.ZoneInfo("Pacific/Chatham")
        assert chatham.utcoffset(datetime(2026, 12, 1)) == timedelta(0)  # the system's answer
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


def test_calendars_ignore_the_system_tz_database(wrong_system_zones: None) -> None:
    calendar = BusinessCalendar.from_spec(
        "nz", {"timezone": "Pacific/Chatham", "hours": {"daily": "09:00-10:00"}}
    )
    # Chatham is UTC+13:45 in its summer: 09:00 local on 1 Dec 2026 is 19:15 UTC the day before.
    assert calendar.next_open(datetime(2026, 11, 30, 12, tzinfo=UTC)) == datetime(
        2026, 11, 30, 19, 15, tzinfo=UTC
    )


def test_links_are_zones_and_paths_are_not() -> None:
    assert zone("US/Eastern").utcoffset(datetime(2026, 7, 1)) == timedelta(hours=-4)
    assert "Europe/Paris" in zone_names()
    for name in ("../../etc/passwd", "America/../Europe/Paris", "/usr/share/zoneinfo/UTC"):
        with pytest.raises(CalendarSpecError, match="unknown time zone"):
            BusinessCalendar.from_spec("x", {"timezone": name, "hours": {"mon": "09:00-17:00"}})


def test_the_tzdata_version_is_an_iana_release_name() -> None:
    assert TZDATA_VERSION[:4].isdigit() and TZDATA_VERSION[4:].isalpha()
