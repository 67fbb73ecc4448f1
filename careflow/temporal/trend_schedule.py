"""The trend watch's Temporal Schedule: ``careflow setup`` and ``careflow up`` create it (or
bring its interval and rule file up to date), every ``CAREFLOW_TREND_INTERVAL``.

A tick that is still running when the next is due makes the next one skip (one watcher at a
time); each tick starts from the last one's result (``workflows.trend_watch``).
"""

from __future__ import annotations

import re

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.errors import CareflowError
from careflow.settings import Settings
from careflow.temporal.explain import explained
from workflows.trend_types import TrendWatchInput
from workflows.trend_watch import TrendWatchWorkflow

SCHEDULE_ID = "careflow-trend-watch"
MIN_INTERVAL_SECONDS = 30


def interval_seconds(settings: Settings) -> int:
    """``CAREFLOW_TREND_INTERVAL`` in seconds; a mistake is one line."""
    value = settings.trend_interval
    if not re.match(DURATION_PATTERN, value):
        raise CareflowError(f"CAREFLOW_TREND_INTERVAL {value!r} is not a duration, e.g. 5m")
    seconds = int(parse_duration(value).total_seconds())
    if seconds < MIN_INTERVAL_SECONDS or 86400 % seconds:
        raise CareflowError(
            f"CAREFLOW_TREND_INTERVAL must be at least {MIN_INTERVAL_SECONDS}s and divide a day "
            "evenly (e.g. 1m, 5m, 15m, 1h): the baselines are the same window on earlier days"
        )
    return seconds


def trend_schedule(settings: Settings, rules_path: str | None = None) -> Schedule:
    seconds = interval_seconds(settings)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            TrendWatchWorkflow.run,
            TrendWatchInput(interval_seconds=seconds, rules_path=rules_path),
            id="trend-watch",
            task_queue=settings.temporal.task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=parse_duration(f"{seconds}s"))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_trend_schedule(
    client: Client, settings: Settings, rules_path: str | None = None
) -> str:
    """Create the schedule, or update it to these settings: "created" or "updated"."""
    schedule = trend_schedule(settings, rules_path)
    with explained(client):
        try:
            await client.create_schedule(SCHEDULE_ID, schedule)
            return "created"
        except ScheduleAlreadyRunningError:

            def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(SCHEDULE_ID).update(update)
            return "updated"
