"""Recorded histories of the trend watch and the proactive-post workflow replay against today's
code, as the inquiry's do in test_replay.py (a separate folder: those replay the inquiry alone).

To record new ones: ``CAREFLOW_RECORD_HISTORIES=1 pytest tests/workflows/test_proactive_post.py
tests/workflows/test_trend_watch.py``; never to paper over a replay failure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.harness import HISTORIES
from workflows.proactive import ProactivePostWorkflow
from workflows.trend_watch import TrendWatchWorkflow

TREND_HISTORIES = HISTORIES.parent / "trend_histories"


def test_every_recorded_proactive_path_is_kept() -> None:
    assert {path.stem for path in TREND_HISTORIES.glob("*.json")} >= {
        "proactive-approved",
        "proactive-rejected",
        "proactive-expired",
        "trend-watch-fired",
    }


def test_recorded_trend_and_proactive_histories_replay() -> None:
    replayer = Replayer(
        workflows=[ProactivePostWorkflow, TrendWatchWorkflow],
        data_converter=pydantic_data_converter,
    )
    histories = [
        WorkflowHistory.from_json(f"recorded-{path.stem}", json.loads(path.read_text()))
        for path in sorted(TREND_HISTORIES.glob("*.json"))
    ]

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    async def replay() -> dict[str, str | None]:
        results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
        return {k: str(v) if v else None for k, v in results.replay_failures.items()}

    assert asyncio.run(replay()) == {}
