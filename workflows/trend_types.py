"""What crosses the trend watcher's boundary: its input and carried state, and its activities'
requests and results.

Names and field shapes are part of recorded histories: rename nothing here.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from workflows.proactive_types import ProactiveInput

TREND_WATCH_WORKFLOW = "TrendWatch"
COUNT_TRENDS = "count_trends"
START_PROACTIVE = "start_proactive"
BASELINE_DAYS = 7


class Series(BaseModel):
    """One pair's counts on the tick grid, compact: ``values[i]`` is the count of the window
    that ended at ``first + i * step`` (epoch seconds); -1 where nothing was counted."""

    first: int
    step: int
    values: list[int] = []


class WatcherState(BaseModel):
    """What one tick hands the next (the schedule's last completion result), bounded: each
    pair's counts of the last ``BASELINE_DAYS`` days (one number per tick of the grid: 2,017
    at five minutes, a few KB), and the pairs now above their threshold (so a spike drafts
    once)."""

    counts: dict[str, Series] = {}  # "<trend>|<segment>" -> its counts
    above: list[str] = []
    ticks: int = 0
    fired: list[str] = []  # proactive workflows started by the last tick (not carried on)


class TrendWatchInput(BaseModel):
    interval_seconds: int = 300
    rules_path: str | None = None  # None: the worker's rule file
    state: WatcherState | None = None  # None: the schedule's last completion result, if any


class WindowCount(BaseModel):
    """One count to make: inquiries of ``topic`` in ``segment`` started in [start, end)."""

    pair: str
    topic: str
    segment: str
    start: AwareDatetime
    end: AwareDatetime
    slot: int  # the tick it is kept under (epoch seconds): the current window ends now, not there


class CountRequest(BaseModel):
    windows: list[WindowCount]


class CountResult(BaseModel):
    counts: list[int]  # in the order asked


class StartRequest(BaseModel):
    """Start the proactive-post workflow ``workflow_id`` unless it exists (one per spike)."""

    workflow_id: str
    template: str  # the post's template source, rendered with ``input.variables``
    input: ProactiveInput


class StartResult(BaseModel):
    started: bool  # False: it existed already (a retried tick)
