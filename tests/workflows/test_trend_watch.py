"""The trend watcher on the time-skipping server, with visibility's counts played by a double:
a spike that crosses the threshold drafts once; a count that is high but not above the usual
drafts nothing; and its carried state stays bounded over weeks of ticks."""

from __future__ import annotations

import asyncio
import re
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.adapters.sandbox import read_outbox
from careflow.engine.trend_model import TrendRule
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.worker import build_worker
from tests.conftest import DEFAULT_PACK
from tests.harness import TEST_SERVER, keep_history
from tests.workflows.test_replay_proactive import TREND_HISTORIES
from workflows import trend_watch_logic as logic
from workflows.proactive import ProactivePostWorkflow
from workflows.trend_types import BASELINE_DAYS, TrendWatchInput, WatcherState
from workflows.trend_watch import TrendWatchWorkflow

# The default pack's trend, for Denver only and from 10 posts.
SHIPPED = "  - name: outage-spike\n    topic: outage\n    min_count: 15\n"
WATCHED = "  - name: outage-spike\n    topic: outage\n    segment: denver\n    min_count: 10\n"
SEGMENT = """
  - name: denver
    on: received
    when: {text: {contains: denver}}
    do: [{set: {segment: denver}}]
"""
INTERVAL = 300


def trend_pack(directory: Path) -> Path:
    text = DEFAULT_PACK.read_text().replace("calendar: care-hours", "calendar: always")
    assert SHIPPED in text
    text = text.replace(SHIPPED, WATCHED, 1) + SEGMENT
    path = directory / "trends.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Visibility:
    """Counts by the window's end: ``now`` for the newest window (a tick asks for it first),
    ``baseline`` for those a day or more before it; every query it answered is kept."""

    def __init__(self, baseline: int) -> None:
        self.baseline = baseline
        self.now = 0
        self.newest = datetime.min.replace(tzinfo=UTC)
        self.queries: list[str] = []

    async def count(self, query: str) -> int:
        self.queries.append(query)
        assert "CareSegment = 'denver'" in query and "CareTopics = 'outage'" in query
        end = re.search(r"StartTime < '([^']+)'", query)
        assert end is not None
        at = datetime.fromisoformat(end.group(1))
        self.newest = max(self.newest, at)
        return self.now if at > self.newest - timedelta(hours=1) else self.baseline


@asynccontextmanager
async def watcher(
    tmp_path: Path, visibility: Visibility
) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    settings = Settings(
        rules=str(trend_pack(tmp_path)),
        home=tmp_path,
        temporal=TemporalSettings(task_queue=f"trends-{uuid.uuid4().hex[:8]}"),
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    async with env, build_worker(env.client, settings, trend_counter=visibility.count):
        yield env, settings


async def tick(
    env: WorkflowEnvironment,
    settings: Settings,
    state: WatcherState | None,
    keep: str | None = None,
) -> WatcherState:
    """One tick; time stands still meanwhile (a tick has no timer, and a draft it starts must
    not see its wait skipped by while the test waits for the tick)."""
    handle = await env.client.start_workflow(
        TrendWatchWorkflow.run,
        TrendWatchInput(interval_seconds=INTERVAL, state=state),
        id=f"trend-watch-{uuid.uuid4().hex[:8]}",
        task_queue=settings.temporal.task_queue,
    )
    with env.auto_time_skipping_disabled():
        result = await handle.result()
    if keep is not None:
        await keep_history(handle, keep, TREND_HISTORIES)
    return result


def notifications(settings: Settings) -> list[dict[str, Any]]:
    return [e for e in read_outbox(settings.outbox) if e["kind"] == "notification"]


async def notified(settings: Settings, n: int) -> None:
    for _ in range(200):
        if len(notifications(settings)) >= n:
            return
        await asyncio.sleep(0.05)


def test_a_spike_drafts_once_while_it_lasts(tmp_path: Path) -> None:
    visibility = Visibility(baseline=1)

    async def scenario() -> None:
        async with watcher(tmp_path, visibility) as (env, settings):
            visibility.now = 4  # under min_count
            state = await tick(env, settings, None)
            assert state.fired == [] and state.above == []
            assert len(visibility.queries) == 1 + BASELINE_DAYS  # cold: the baseline days too
            await env.sleep(timedelta(seconds=INTERVAL))
            visibility.now = 14  # over 10 and over 3 x the median (1)
            state = await tick(env, settings, state, keep="trend-watch-fired")
            (fired,) = state.fired
            assert fired.startswith("proactive-outage-spike-denver-")
            draft = await env.client.get_workflow_handle(fired).query(ProactivePostWorkflow.status)
            assert draft.status == "awaiting" and draft.count == 14 and draft.baseline == 1.0
            assert draft.draft.startswith(
                "We know our site and app are down for many of you in Denver."
            )
            await env.sleep(timedelta(seconds=INTERVAL))
            visibility.now = 20  # still above: the same spike
            state = await tick(env, settings, state)
            assert state.fired == [] and state.above == ["outage-spike|denver"]
            await notified(settings, 1)
            assert len(notifications(settings)) == 1  # one draft told to the approvers

    asyncio.run(scenario())


def test_a_high_count_that_is_usual_drafts_nothing(tmp_path: Path) -> None:
    visibility = Visibility(baseline=8)

    async def scenario() -> None:
        async with watcher(tmp_path, visibility) as (env, settings):
            visibility.now = 20  # over min_count 10, but under 3 x 8
            state = await tick(env, settings, None)
            assert state.fired == [] and state.above == []
            visibility.now = 23  # just under 3 x 8
            await env.sleep(timedelta(seconds=INTERVAL))
            state = await tick(env, settings, state)
            assert state.fired == []
            await asyncio.sleep(0.3)
            assert notifications(settings) == []

    asyncio.run(scenario())


def test_the_carried_state_stays_bounded_over_weeks_of_ticks() -> None:
    """Three weeks of five-minute ticks: per pair, at most a week of counts is kept, and once
    a week has passed each tick counts one window per pair."""
    trend = TrendRule.model_validate(
        {
            "name": "outage-spike",
            "topic": "outage",
            "min_count": 10,
            "window": "30m",
            "factor": 3,
            "template": "outage_post",
            "approvers": "supervisors",
        }
    )
    pairs = [logic.Pair(trend, segment, 1800) for segment in ("denver", "general")]
    state = WatcherState()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    per_week = BASELINE_DAYS * 86400 // INTERVAL
    largest = 0
    for n in range(3 * per_week):
        end = logic.aligned(start + timedelta(seconds=n * INTERVAL + 7), INTERVAL)
        windows = logic.wanted(state, pairs, end)
        if n > per_week:
            assert len(windows) == len(pairs)
        logic.record(state, windows, [n % 5] * len(windows), INTERVAL)
        logic.prune(state, pairs, end)
        largest = max(largest, max(len(s.values) for s in state.counts.values()))
    assert largest <= per_week + 1
    days = [
        logic.count_at(state, pairs[0].key, int(end.timestamp()) - d * 86400) for d in range(1, 8)
    ]
    assert None not in days  # every baseline day is kept: nothing to count again
    assert logic.baseline(state, pairs[0], end) == statistics.median([d or 0 for d in days])
    carried = WatcherState.model_validate_json(state.model_dump_json())
    assert carried == state
    assert len(carried.model_dump_json()) < 20_000  # two pairs, a week of five-minute ticks
