"""The rule engine is deterministic workflow code: it runs in Temporal's sandbox and replays."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK, EXAMPLES
from tests.workflows.sandbox_probe import ProbeInput, ProbeResult, TriageProbe

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


async def _run_probe(example: str) -> tuple[ProbeResult, WorkflowHistory]:
    inquiry = Inquiry.model_validate_json((EXAMPLES / f"{example}.json").read_text())
    ruleset = load_ruleset(DEFAULT_PACK)
    probe = ProbeInput(DEFAULT_PACK.read_text(), ruleset.digest, inquiry)
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
        ) as env,
        Worker(env.client, task_queue="probe", workflows=[TriageProbe]),
    ):
        handle = await env.client.start_workflow(
            TriageProbe.run, probe, id=f"probe-{uuid.uuid4()}", task_queue="probe"
        )
        result = await handle.result()
        history = await handle.fetch_history()
    return result, history


def test_engine_runs_in_the_sandbox_and_agrees_with_explain() -> None:
    result, history = asyncio.run(_run_probe("high-reach"))
    outside = load_ruleset(DEFAULT_PACK).evaluate(
        "received",
        Inquiry.model_validate_json((EXAMPLES / "high-reach.json").read_text()),
    )
    assert result.fired == outside.fired == ["late-delivery", "high-reach"]
    assert result.why == outside.why
    assert (result.priority, result.windows) == ("urgent", "urgent")
    assert result.acknowledge_published_due == "2026-11-17T15:35:00+00:00"

    replayer = Replayer(workflows=[TriageProbe], data_converter=pydantic_data_converter)
    replayed = asyncio.run(replayer.replay_workflow(history))
    assert replayed.replay_failure is None
    assert json.loads(history.to_json())["events"]
