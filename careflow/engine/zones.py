"""Time zones from the pinned ``tzdata`` package, never the machine's own tz database.

A business calendar's deadlines depend on its zone's offset rules. The system's
``/usr/share/zoneinfo`` changes with OS updates, so the same history could replay to other
deadlines on another machine or after an upgrade of the OS. Zones here come only from the
``tzdata`` version pinned in pyproject.toml, whose IANA release (``TZDATA_VERSION``) is recorded
with every ruleset load. ``zoneinfo.TZPATH`` is left alone: other code keeps the system's zones.

Reading a zone file is loading code-like data shipped with careflow (as an import is), once per
process per zone: a workflow that meets a zone first inside Temporal's sandbox reads the same
bytes on every worker with the same pin, so it stays deterministic.
"""

from __future__ import annotations

import functools
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzdata

__all__ = ["TZDATA_VERSION", "zone", "zone_names"]

TZDATA_VERSION: str = tzdata.IANA_VERSION
"""The IANA tz database release careflow's calendars use, e.g. ``2026f``."""


@functools.cache
def zone_names() -> frozenset[str]:
    """Every zone name the pinned tz database knows (links such as ``US/Eastern`` included)."""
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listing.split())


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The zone ``name`` from the pinned ``tzdata``; ``ZoneInfoNotFoundError`` when unknown.

    Only listed names are opened, so a name can never reach a file outside the package.
    """
    if name not in zone_names():
        raise ZoneInfoNotFoundError(f"no time zone {name!r} in tzdata {TZDATA_VERSION}")
    data = resources.files("tzdata").joinpath("zoneinfo", *name.split("/"))
    with data.open("rb") as stream:
        return ZoneInfo.from_file(stream, key=name)
