"""The trend watch's schedule on a real (dev) server: created once, updated after, and a tick
it triggers runs the watcher."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import ScheduleActionExecutionStartWorkflow

from careflow.errors import CareflowError
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.trend_schedule import SCHEDULE_ID, ensure_trend_schedule
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, round_the_clock_pack
from workflows.trend_types import WatcherState


def test_setup_creates_the_schedule_then_updates_it_and_a_tick_runs(tmp_path: Path) -> None:
    settings = Settings(
        rules=str(round_the_clock_pack(tmp_path)),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="trend-schedule"),
        trend_interval="10m",
    )

    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            assert await ensure_trend_schedule(client, settings) == "created"
            faster = dataclasses.replace(settings, trend_interval="2m")
            assert await ensure_trend_schedule(client, faster) == "updated"
            handle = client.get_schedule_handle(SCHEDULE_ID)
            described = await handle.describe()
            assert [i.every for i in described.schedule.spec.intervals] == [timedelta(minutes=2)]
            async with build_worker(client, settings):
                await handle.trigger()
                for _ in range(100):
                    info = (await handle.describe()).info
                    if info.recent_actions:
                        break
                    await asyncio.sleep(0.1)
                (action,) = info.recent_actions
                started = action.action
                assert isinstance(started, ScheduleActionExecutionStartWorkflow)
                run = client.get_workflow_handle(
                    started.workflow_id, run_id=started.first_execution_run_id
                )
                state = WatcherState.model_validate(await run.result())
                assert state.ticks == 1 and state.fired == []  # the pack has no trends

    asyncio.run(scenario())


def test_an_interval_that_is_no_duration_is_one_line(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, trend_interval="often")

    async def scenario() -> None:
        with pytest.raises(CareflowError, match="CAREFLOW_TREND_INTERVAL 'often'"):
            await ensure_trend_schedule(None, settings)  # type: ignore[arg-type]

    asyncio.run(scenario())
