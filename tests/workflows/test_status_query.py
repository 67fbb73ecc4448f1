"""The ``status`` query only reads: a query runs on the live worker and never on replay, so a
change it made would exist in one and not the other (and differ with how often people look)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from temporalio.worker import Worker

from activities.adapters.sandbox import SandboxAdapter
from activities.outbound import OutboundActivities
from activities.rules import RulesActivities
from careflow.temporal.intake import first_message
from tests.harness import careflow, example, round_the_clock_pack
from tests.workflows.state_probe import InquiryStateProbe
from workflows.messages import CustomerMessage, InquiryInput


def test_the_status_query_leaves_the_workflow_state_as_it_was(tmp_path: Path) -> None:
    async def scenario() -> None:
        rules = round_the_clock_pack(tmp_path)
        async with careflow(tmp_path, rules) as h:
            queue = f"probe-{uuid.uuid4().hex[:8]}"
            adapter = SandboxAdapter(h.settings.outbox)
            worker = Worker(
                h.env.client,
                task_queue=queue,
                workflows=[InquiryStateProbe],
                activities=[
                    RulesActivities(str(rules)).load_rules,
                    OutboundActivities(adapter).deliver,
                ],
            )
            async with worker:
                inquiry = example("question", await h.now())
                handle = await h.env.client.start_workflow(
                    InquiryStateProbe.run,
                    InquiryInput(inquiry=inquiry, search_attributes=False),
                    id=f"probe-{uuid.uuid4().hex[:8]}",
                    task_queue=queue,
                    start_signal="customer_message",
                    start_signal_args=[first_message(inquiry)],
                )
                again = CustomerMessage(id="m-1", text="Any news?", at=await h.now())
                await handle.signal("customer_message", again)
                await handle.signal("customer_message", again)  # a redelivery
                before: dict[str, Any] = {}
                for _ in range(100):
                    before = await handle.query(InquiryStateProbe.state_dump)
                    if len(before["messages"]) == 2:
                        break
                    await asyncio.sleep(0.05)
                status = await h.status(handle)
                after = await handle.query(InquiryStateProbe.state_dump)
                assert status.duplicate_deliveries == 1  # the status still counts it…
                assert after == before  # …without writing it (or anything) into the state

    asyncio.run(scenario())
