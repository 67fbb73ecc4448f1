"""On a real (dev) server the inquiry keeps its search attributes current: the queue and reports
query them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client, WorkflowQueryFailedError

from careflow.settings import Settings, TemporalSettings
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import InquiryInput, ReplyRequest
from workflows.state import InquiryStatus

T = TypeVar("T")


async def _attributes(client: Client, workflow_id: str) -> dict[str, object]:
    description = await client.get_workflow_handle(workflow_id).describe()
    return {pair.key.name: pair.value for pair in description.typed_search_attributes}


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Visibility is eventually consistent: poll until ``check`` passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def test_search_attributes_follow_the_inquiry(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            settings = Settings(
                rules=str(round_the_clock_pack(tmp_path)),
                home=tmp_path,
                temporal=TemporalSettings(task_queue="sa-test"),
            )
            async with build_worker(env.client, settings):
                inquiry = example("late-delivery", await env.get_current_time())
                handle = await env.client.start_workflow(
                    InquiryWorkflow.run,
                    InquiryInput(inquiry=inquiry),
                    id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                    task_queue=settings.temporal.task_queue,
                )

                async def started() -> InquiryStatus:
                    try:
                        return await handle.query(InquiryWorkflow.status)
                    except WorkflowQueryFailedError as still_starting:
                        raise AssertionError(still_starting.message) from None

                status = await _eventually(started)

                async def triaged() -> dict[str, object]:
                    attributes = await _attributes(env.client, handle.id)
                    assert attributes.get("CareStep") == "acknowledge"
                    return attributes

                attributes = await _eventually(triaged)
                assert attributes["CareCategory"] == "late_delivery"
                assert attributes["CareQueue"] == "logistics"
                assert attributes["CarePriority"] == "normal"
                assert attributes["CareChannel"] == "x"
                assert attributes["CareRuleset"] == status.ruleset["digest"]
                assert attributes["CareNextDue"] == status.clocks["acknowledge"].internal_due
                assert "CareAgent" not in attributes

                await handle.execute_update(
                    InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="On it")
                )

                async def privatized() -> None:
                    attributes = await _attributes(env.client, handle.id)
                    assert attributes.get("CareStep") == "privatize"
                    assert attributes.get("CareAgent") == "Ana"

                await _eventually(privatized)

                async def listed() -> None:
                    query = "CareQueue='logistics' AND CareStep='privatize'"
                    found = [w.id async for w in env.client.list_workflows(query)]
                    assert found == [handle.id]

                await _eventually(listed)

    asyncio.run(scenario())
