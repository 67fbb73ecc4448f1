"""Durations and times as people read them in reports: ``2h 36m``, ``2026-11-30 20:08:29 UTC``.

Reports are read by supervisors and auditors, not parsed: ``9364.6 min`` and microseconds make
them harder to read and add nothing (the JSON forms keep exact values).
"""

from __future__ import annotations

from datetime import datetime

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def duration(seconds: float | None) -> str:
    """``45s``, ``12m 30s``, ``2h 36m``, ``3d 4h``: the two largest units; ``-`` when unknown."""
    if seconds is None:
        return "-"
    left = round(abs(seconds))
    parts: list[str] = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count or parts:
            parts.append(f"{count}{unit}")
        if len(parts) == 2:
            break
    while len(parts) > 1 and parts[-1][0] == "0":
        parts.pop()  # "2h 0m" reads as "2h"
    text = " ".join(parts) or "0s"
    return f"-{text}" if seconds < 0 else text


def moment(at: datetime | None) -> str:
    """A time to the second with its zone: ``2026-11-30 20:08:29 UTC`` (``+02:00`` elsewhere)."""
    if at is None:
        return "-"
    text = at.strftime("%Y-%m-%d %H:%M:%S")
    offset = at.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    return f"{text} {at.isoformat()[-6:]}"
