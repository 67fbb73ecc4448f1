"""The trend watcher's arithmetic, pure: which windows to count, the baseline median, when a
trend fires, and keeping the carried counts bounded.

A tick at ``end`` counts each pair's window ``[end - window, end)`` and compares it with the
median of the same window 1 to ``BASELINE_DAYS`` days earlier. Those earlier counts were this
tick's own counts on earlier days (ticks are aligned to the interval), so once a week has passed
a tick costs one count per pair; until then the missing ones are counted once and kept.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from careflow.engine.trend_model import TrendRule
from workflows.trend_types import BASELINE_DAYS, Series, WatcherState, WindowCount

DAY = 86400


def aligned(now: datetime, interval_seconds: int) -> datetime:
    """The tick's time: ``now`` down to the interval (schedules fire on aligned times)."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % interval_seconds, UTC)


def pair_key(trend: str, segment: str) -> str:
    return f"{trend}|{segment}"


@dataclass(frozen=True)
class Pair:
    """A trend watched in one segment."""

    trend: TrendRule
    segment: str
    window_seconds: int

    @property
    def key(self) -> str:
        return pair_key(self.trend.name, self.segment)


def count_at(state: WatcherState, key: str, slot: int) -> int | None:
    """The count kept for ``key``'s window that ended at ``slot``, or None."""
    series = state.counts.get(key)
    if series is None or slot < series.first or (slot - series.first) % series.step:
        return None
    index = (slot - series.first) // series.step
    value = series.values[index] if index < len(series.values) else -1
    return value if value >= 0 else None


def keep(state: WatcherState, key: str, slot: int, value: int, step: int) -> None:
    """Keep a count on ``key``'s grid (a grid of another step starts over; a slot off the grid,
    from an interval that does not divide a day, is not kept and is counted again)."""
    series = state.counts.get(key)
    if series is None or series.step != step:
        series = state.counts[key] = Series(first=slot - slot % step, step=step)
    if (slot - series.first) % step:
        return
    if slot < series.first:
        series.values[:0] = [-1] * ((series.first - slot) // step)
        series.first = slot
    index = (slot - series.first) // step
    series.values.extend([-1] * (index + 1 - len(series.values)))
    series.values[index] = value


def wanted(
    state: WatcherState, pairs: list[Pair], end: datetime, now: datetime | None = None
) -> list[WindowCount]:
    """The windows to count now: each pair's current one (up to ``now``: a tick triggered
    between two aligned times still counts the latest posts), and each baseline day not yet
    kept (up to the aligned ``end``, as the ticks of those days counted)."""
    windows: list[WindowCount] = []
    for pair in pairs:
        for days in range(BASELINE_DAYS + 1):
            slot = end - timedelta(days=days)
            if days and count_at(state, pair.key, int(slot.timestamp())) is not None:
                continue
            at = (now or end) if days == 0 else slot
            windows.append(
                WindowCount(
                    pair=pair.key,
                    topic=pair.trend.topic,
                    segment=pair.segment,
                    start=at - timedelta(seconds=pair.window_seconds),
                    end=at,
                    slot=int(slot.timestamp()),
                )
            )
    return windows


def record(state: WatcherState, windows: list[WindowCount], counts: list[int], step: int) -> None:
    for window, count in zip(windows, counts, strict=True):
        keep(state, window.pair, window.slot, count, step)


def baseline(state: WatcherState, pair: Pair, end: datetime) -> float:
    """The median count of the same window on each of the last ``BASELINE_DAYS`` days."""
    stamp = int(end.timestamp())
    days = [count_at(state, pair.key, stamp - d * DAY) or 0 for d in range(1, BASELINE_DAYS + 1)]
    return float(statistics.median(days))


def crosses(pair: Pair, count: int, median: float) -> bool:
    """At least ``min_count`` and at least ``factor`` times the usual."""
    return count >= pair.trend.min_count and count >= pair.trend.factor * median


def prune(state: WatcherState, pairs: list[Pair], end: datetime) -> None:
    """Forget what no later tick will read: counts older than the baseline's reach, pairs no
    longer watched. Bounded: per pair, one count per tick of the last ``BASELINE_DAYS`` days."""
    watched = {pair.key for pair in pairs}
    oldest = int(end.timestamp()) - BASELINE_DAYS * DAY
    state.counts = {key: series for key, series in state.counts.items() if key in watched}
    for series in state.counts.values():
        if series.first < oldest:
            drop = min(len(series.values), -(-(oldest - series.first) // series.step))
            del series.values[:drop]
            series.first += drop * series.step
    state.above = [key for key in state.above if key in watched]
