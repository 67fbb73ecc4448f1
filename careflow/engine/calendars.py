"""Business calendars: response windows count only the hours a care team is actually open.

A calendar is a time zone, weekly opening hours and holidays, or ``always`` (around the clock).
Everything here is pure and deterministic — no wall clock, no I/O beyond the pinned ``tzdata``
package's zone files (``careflow.engine.zones``, never the system's), no module-level mutable
state — so it can run inside a Temporal workflow sandbox and replay identically. Local opening
hours are turned into real UTC intervals before anything is measured, so a window that spans a
DST change is exactly as long as the time that really elapsed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careflow.engine.suggest import did_you_mean
from careflow.engine.zones import zone, zone_names

__all__ = [
    "ALWAYS",
    "AlwaysCalendar",
    "BusinessCalendar",
    "Calendar",
    "CalendarSpecError",
]

MAX_SCAN_DAYS = 4000  # ~11 years: a due time further out than that is a configuration mistake
_DAY_MINUTES = 24 * 60
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SPEC_KEYS = ("timezone", "hours", "holidays")
_EN_DASH = "\u2013"  # customer-facing ranges; also accepted in the rule file
_RANGE_RE = re.compile(r"^(\d{2}):(\d{2})\s*[-\u2013]\s*(\d{2}):(\d{2})$")
_HOLIDAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_KEY_HELP = "use mon..sun, a range like mon-fri, a list like sat,sun, or daily"

Range = tuple[int, int]
"""Opening minutes ``[start, end)`` after local midnight; ``end > 1440`` runs into the next day."""
Week = tuple[tuple[Range, ...], ...]
"""Seven days, Monday first, each with its ranges sorted by start."""
SpecPath = tuple[str | int, ...]


class CalendarSpecError(ValueError):
    """A calendar spec that cannot be used; ``path`` points the checker at the offending part."""

    def __init__(self, path: SpecPath, message: str, *, at_key: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.at_key = at_key  # the mapping key itself (a day name) is wrong, not its value

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- time arithmetic


def _as_utc(value: datetime, what: str) -> datetime:
    """Reject naive datetimes: guessing a time zone would silently shift every deadline."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a local wall time names: first occurrence if repeated, gap's end if skipped.

    Mapping every skipped time to the end of the gap (rather than shifting it by the offset change)
    keeps the mapping monotonic, so local intervals never turn inside out in UTC.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # an ordinary time, or the first occurrence of a repeated one
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, second), max(first, second)
    after = hi.astimezone(zone).utcoffset()
    # Binary search for the transition instant: the first microsecond with the new offset.
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------- spec parsing


def _day_hint(word: str) -> str:
    """Suggest a day for a typo or a spelt-out name (``wednesday`` is too far for difflib)."""
    if len(word) >= 2:
        for short, full in zip(_DAYS, _FULL_DAYS, strict=True):
            if full.startswith(word) or word.startswith(full):
                return f" (did you mean {short!r}?)"
    return did_you_mean(word, (*_DAYS, "daily"))


def _day_key_error(path: SpecPath, message: str) -> CalendarSpecError:
    return CalendarSpecError(path, message, at_key=True)


def _parse_day(word: str, key: str, path: SpecPath) -> int:
    if not word:
        raise _day_key_error(path, f"empty day name in {key!r}: {_DAY_KEY_HELP}")
    if word not in _DAYS:
        raise _day_key_error(path, f"unknown day {word!r}{_day_hint(word)}")
    return _DAYS.index(word)


def _parse_days(key: object, path: SpecPath) -> list[int]:
    """Weekday numbers (Monday = 0) named by one ``hours`` key, in the order written."""
    if not isinstance(key, str):
        raise _day_key_error(path, f"unknown day {key!r}: {_DAY_KEY_HELP}")
    text = "".join(key.split()).lower()
    days: list[int] = []
    for item in text.split(","):
        if item == "daily":
            named = list(range(7))
        elif "-" in item:
            ends = item.split("-")
            if len(ends) != 2:
                raise _day_key_error(
                    path, f"invalid day range {item!r}: use two days, e.g. mon-fri"
                )
            first, last = (_parse_day(end, key, path) for end in ends)
            if first == last:
                raise _day_key_error(
                    path, f"day range {item!r} starts and ends on the same day: write {ends[0]!r}"
                )
            named = [(first + offset) % 7 for offset in range((last - first) % 7 + 1)]
        else:
            named = [_parse_day(item, key, path)]
        for day in named:
            if day in days:
                raise _day_key_error(path, f"day {_DAYS[day]!r} is listed twice in {key!r}")
            days.append(day)
    return days


def _parse_clock(text: str, *, end: bool) -> int | None:
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        return None
    return hours * 60 + minutes


def _parse_range(text: str, path: SpecPath) -> Range:
    match = _RANGE_RE.match(text)
    if match is None:
        raise CalendarSpecError(
            path, f"invalid time range {text!r}: use HH:MM-HH:MM, e.g. 08:00-20:00"
        )
    start_text = f"{match[1]}:{match[2]}"
    end_text = f"{match[3]}:{match[4]}"
    start = _parse_clock(start_text, end=False)
    end = _parse_clock(end_text, end=True)
    if start_text == "24:00":
        raise CalendarSpecError(
            path, f"invalid time range {text!r}: a range cannot start at 24:00, use 00:00"
        )
    if start is None or end is None:
        raise CalendarSpecError(
            path, f"invalid time range {text!r}: times run from 00:00 to 24:00, e.g. 08:00-20:00"
        )
    if start == end:
        raise CalendarSpecError(
            path, f"empty time range {text!r}: to stay open around the clock write 00:00-24:00"
        )
    return (start, end) if end > start else (start, end + _DAY_MINUTES)


def _parse_hours_value(value: object, path: SpecPath) -> tuple[Range, ...]:
    """The ranges of one ``hours`` entry: a string, a list of strings, or ``closed``."""
    pieces: list[tuple[str, SpecPath]] = []
    if isinstance(value, str):
        pieces = [(part.strip(), path) for part in value.split(",")]
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        if not value:
            raise CalendarSpecError(
                path, "no time ranges: write 'closed' or ranges such as '08:00-20:00'"
            )
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise CalendarSpecError(
                    (*path, index), f"expected a time range such as '08:00-20:00', got {item!r}"
                )
            pieces += [(part.strip(), (*path, index)) for part in item.split(",")]
    else:
        raise CalendarSpecError(
            path, f"expected opening hours such as '08:00-20:00' or 'closed', got {value!r}"
        )
    closed = [piece for piece in pieces if piece[0].lower() == "closed"]
    if closed:
        if len(pieces) > 1:
            raise CalendarSpecError(closed[0][1], "'closed' cannot be combined with time ranges")
        return ()
    ranges: list[tuple[Range, str]] = []
    for text, piece_path in pieces:
        if not text:
            raise CalendarSpecError(
                piece_path, f"empty time range in {value!r}: remove the extra comma"
            )
        ranges.append((_parse_range(text, piece_path), text))
    ranges.sort()
    for (earlier, earlier_text), (later, later_text) in pairwise(ranges):
        if later[0] < earlier[1]:
            raise CalendarSpecError(
                path, f"overlapping time ranges {earlier_text!r} and {later_text!r}"
            )
    return tuple(found for found, _ in ranges)


def _format_range(found: Range, dash: str = "-") -> str:
    start, end = found
    if end > _DAY_MINUTES:
        end -= _DAY_MINUTES
    return f"{start // 60:02d}:{start % 60:02d}{dash}{end // 60:02d}:{end % 60:02d}"


def _parse_hours(hours: object) -> Week:
    """The weekly hours; the first problem found, in the order written, is raised."""
    if not isinstance(hours, Mapping) or not hours:
        raise CalendarSpecError(
            ("hours",), "missing opening hours: add e.g. hours: {mon-fri: '08:00-20:00'}"
        )
    week: list[tuple[Range, ...]] = [() for _ in _DAYS]
    owner: dict[int, str] = {}
    for key, value in hours.items():
        path: SpecPath = ("hours", key)
        days = _parse_days(key, path)
        for day in days:
            if day in owner:
                raise CalendarSpecError(
                    path,
                    f"day {_DAYS[day]!r} is listed twice: in {owner[day]!r} and {key!r}",
                    at_key=True,
                )
            owner[day] = key
        ranges = _parse_hours_value(value, path)
        for day in days:
            week[day] = ranges
    for key in hours:
        for day in _parse_days(key, ("hours", key)):
            spill = [r for r in week[day] if r[1] > _DAY_MINUTES]
            following = week[(day + 1) % 7]
            if spill and following and following[0][0] < spill[-1][1] - _DAY_MINUTES:
                raise CalendarSpecError(
                    ("hours", key),
                    f"overnight range {_format_range(spill[-1])!r} on {_DAYS[day]} runs into "
                    f"{_format_range(following[0])!r} on {_DAYS[(day + 1) % 7]}",
                )
    if not any(week):
        raise CalendarSpecError(
            ("hours",), "no open hours: every day is closed, so no response window could ever end"
        )
    return tuple(week)


def _parse_zone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise CalendarSpecError(
            ("timezone",), "missing time zone: add an IANA name, e.g. timezone: America/New_York"
        )
    try:
        return zone(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        known = {name.lower(): name for name in zone_names()}
        close = difflib.get_close_matches(value.lower(), list(known), n=1, cutoff=0.6)
        hint = f" (did you mean {known[close[0]]!r}?)" if close else ""
        raise CalendarSpecError(("timezone",), f"unknown time zone {value!r}{hint}") from None


def _parse_holidays(value: object) -> tuple[date, ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str | bytes | bytearray):
        raise CalendarSpecError(
            ("holidays",), "expected a list of dates (YYYY-MM-DD), e.g. [2026-12-25]"
        )
    found: set[date] = set()
    for index, item in enumerate(value):
        if isinstance(item, date) and not isinstance(item, datetime):
            found.add(item)  # YAML loaders may hand over unquoted dates already parsed
            continue
        if not isinstance(item, str) or _HOLIDAY_RE.match(item) is None:
            raise CalendarSpecError(
                ("holidays", index),
                f"invalid holiday date {item!r}: use YYYY-MM-DD, e.g. 2026-12-25",
            )
        try:
            found.add(date.fromisoformat(item))
        except ValueError:
            raise CalendarSpecError(
                ("holidays", index), f"invalid holiday date {item!r}: no such date in the calendar"
            ) from None
    return tuple(sorted(found))


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one time zone; response windows only count down while it is open."""

    name: str
    timezone: str
    week: Week
    holidays: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        zone(self.timezone)  # an unknown zone fails here, not at the first deadline

    @property
    def _zone(self) -> ZoneInfo:
        """Looked up (cached) rather than stored: the calendar stays plain, picklable data."""
        return zone(self.timezone)

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Build from the rule file's spelling; the first problem raises ``CalendarSpecError``."""
        for key in spec:
            if key not in _SPEC_KEYS:
                hint = did_you_mean(str(key), _SPEC_KEYS)
                raise CalendarSpecError((key,), f"unknown calendar key {key!r}{hint}")
        zone = _parse_zone(spec.get("timezone"))
        week = _parse_hours(spec.get("hours"))
        holidays = _parse_holidays(spec.get("holidays"))
        return cls(name=name, timezone=zone.key, week=week, holidays=holidays)

    # ------------------------------------------------------------------ intervals

    def _intervals(
        self, start: datetime, *, limit: bool = True
    ) -> Iterator[tuple[datetime, datetime]]:
        """Open UTC intervals ``[open, close)`` in time order, from any that may contain ``start``.

        Day by day from the local day before ``start`` (its overnight ranges can reach past local
        midnight). Empty intervals (wholly inside a DST gap) are skipped. With ``limit``, give up
        after ``MAX_SCAN_DAYS`` days so that no spec can make a caller loop forever.
        """
        zone = self._zone
        day = start.astimezone(zone).date()
        with suppress(OverflowError):
            day -= timedelta(days=1)
        holidays = frozenset(self.holidays)
        scanned = 0
        try:
            while True:
                if limit and scanned > MAX_SCAN_DAYS:
                    raise ValueError(
                        f"calendar {self.name!r}: no result within {MAX_SCAN_DAYS} days of "
                        f"{start.isoformat()}"
                    )
                if day not in holidays:
                    midnight = datetime.combine(day, time())
                    for begin, end in self.week[day.weekday()]:
                        opens = _local_to_utc(midnight + timedelta(minutes=begin), zone)
                        closes = _local_to_utc(midnight + timedelta(minutes=end), zone)
                        if closes > opens:
                            yield opens, closes
                day += timedelta(days=1)
                scanned += 1
        except OverflowError:
            raise ValueError(f"calendar {self.name!r}: outside the supported date range") from None

    # ------------------------------------------------------------------ queries

    def is_open(self, at: datetime) -> bool:
        """Whether a message arriving at ``at`` is inside opening hours (``[open, close)``)."""
        return self.next_open(at) == _as_utc(at, "at")

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if open, else the next opening instant: when counting can begin."""
        at = _as_utc(at, "at")
        for opens, closes in self._intervals(at):
            if closes > at:
                return max(opens, at)
        raise AssertionError("unreachable: _intervals is endless")  # pragma: no cover

    def due(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of open time has passed since ``start``."""
        start = _as_utc(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        if not duration:
            return self.next_open(start)
        remaining = duration
        for opens, closes in self._intervals(start):
            if closes <= start:
                continue
            opens = max(opens, start)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable: _intervals is endless")  # pragma: no cover

    def open_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much open time lies in ``[start, end)``: the part of a window actually used."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._intervals(start, limit=False):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        return total

    # ------------------------------------------------------------------ text

    def describe_hours(self) -> str:
        """Customer-facing hours: ``Mon-Fri 08:00-20:00, Sat 10:00-16:00``, with en dashes."""

        def ranges_text(ranges: tuple[Range, ...]) -> str:
            return " & ".join(_format_range(found, _EN_DASH) for found in ranges)

        if all(ranges == self.week[0] for ranges in self.week):
            return f"daily {ranges_text(self.week[0])}"
        parts: list[str] = []
        first = 0
        while first < 7:
            last = first
            while last + 1 < 7 and self.week[last + 1] == self.week[first]:
                last += 1
            if self.week[first]:
                days = _DAY_LABELS[first]
                if last > first:
                    days += f"{_EN_DASH}{_DAY_LABELS[last]}"
                parts.append(f"{days} {ranges_text(self.week[first])}")
            first = last + 1
        return ", ".join(parts)

    def describe_holidays(self) -> str:
        """Customer-facing closures, e.g. ``closed on 24 Dec 2026 and 25 Dec 2026``, or ``""``."""
        if not self.holidays:
            return ""
        dates = [f"{day.day} {_MONTHS[day.month - 1]} {day.year}" for day in self.holidays]
        listed = dates[0] if len(dates) == 1 else f"{', '.join(dates[:-1])} and {dates[-1]}"
        return f"closed on {listed}"


@dataclass(frozen=True)
class AlwaysCalendar:
    """The built-in ``always`` calendar: windows count down around the clock."""

    name: str = "always"
    timezone: str = "UTC"

    def is_open(self, at: datetime) -> bool:
        """Always open (the argument is still checked, as for business calendars)."""
        _as_utc(at, "at")
        return True

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself, in UTC."""
        return _as_utc(at, "at")

    def due(self, start: datetime, duration: timedelta) -> datetime:
        """``start + duration`` in real elapsed time."""
        start = _as_utc(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        return start + duration

    def open_time_between(self, start: datetime, end: datetime) -> timedelta:
        """All of ``[start, end)``."""
        elapsed = _as_utc(end, "end") - _as_utc(start, "start")
        return max(elapsed, timedelta(0))

    def describe_hours(self) -> str:
        """Customer-facing hours."""
        return "around the clock"

    def describe_holidays(self) -> str:
        """No closures."""
        return ""


ALWAYS = AlwaysCalendar()
Calendar: TypeAlias = BusinessCalendar | AlwaysCalendar
