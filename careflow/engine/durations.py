"""Durations as ops engineers write them: ``45s``, ``30m``, ``4h``, ``2d``, or compounds like ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

# Keep in sync with ``$defs/duration`` in schemas/rules.schema.json (a test checks they agree).
DURATION_PATTERN = r"^(?=.*[1-9])(\d+d)?(\d+h)?(\d+m)?(\d+s)?$"
_DURATION_RE = re.compile(DURATION_PATTERN)
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_NAMES = {"d": "day", "h": "hour", "m": "minute", "s": "second"}


class DurationError(ValueError):
    """A duration string that does not follow the rule-file format."""


def parse_duration(text: str) -> timedelta:
    """Parse ``2d``, ``4h``, ``30m``, ``45s`` or a compound such as ``1h30m``; must be positive."""
    match = _DURATION_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise DurationError(
            f"invalid duration {text!r}: use a number and a unit s, m, h or d, e.g. 45s, 30m, 4h, 2d"
        )
    seconds = sum(
        int(part[:-1]) * factor
        for part, (_, factor) in zip(match.groups(), _UNITS, strict=True)
        if part
    )
    if seconds <= 0:
        raise DurationError(f"invalid duration {text!r}: must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The compact rule-file spelling of a duration, e.g. ``1h30m``."""
    remaining = int(value.total_seconds())
    parts = []
    for unit, factor in _UNITS:
        count, remaining = divmod(remaining, factor)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def humanize_duration(value: timedelta) -> str:
    """The customer-facing spelling, e.g. ``1 hour 30 minutes``; used in templates and published hours."""
    remaining = int(value.total_seconds())
    parts = []
    for unit, factor in _UNITS:
        count, remaining = divmod(remaining, factor)
        if count:
            parts.append(f"{count} {_NAMES[unit]}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
