"""Cost per message of one inquiry as its conversation grows, and the largest payload it makes.

Why: a long complaint thread, or a bot talking to careflow, once grew the state carried across
continue-as-new, the status and the result without bound (every event also looked through every
message): at about 1,500 exchanges the result passed Temporal's 2 MB payload limit and the
inquiry failed. Since the bounded-state patch the state keeps the latest of each list; this
checks that handling a message costs the same at 10, 1,000 and 5,000 messages, and prints the
largest event of any run's history (the carried state at a run's start, the result at its end)
and the largest status.

One inquiry on Temporal's time-skipping test server with a careflow worker; a rule answers every
customer message (one ``deliver`` each), so an exchange needs no agent. At each size the bench
times a batch of ``--batch`` more messages, answered, and prints seconds per message and the
ratio to the cost at 10 messages measured in the same run.

Run: ``.venv/bin/python bench/long_conversation_bench.py [--batch N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from careflow.engine.post import Inquiry
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.intake import first_message
from careflow.temporal.worker import build_worker
from workflows.inquiry import InquiryWorkflow
from workflows.messages import CustomerMessage, InquiryInput
from workflows.state import InquiryStatus

ROOT = Path(__file__).resolve().parent.parent
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
SIZES = (10, 1_000, 5_000)  # customer messages already in the conversation
FILL = 500  # messages sent at once on the way to a size, each batch answered before the next
BOT_ANSWERS = """
  - name: bot-answers
    on: customer.message
    do: [{reply: {template: ack}}]
"""


def _rules(directory: Path) -> Path:
    """The default pack counting around the clock, answering every customer message."""
    text = (ROOT / "rules" / "default.yaml").read_text()
    path = directory / "bench.yaml"
    path.write_text(text.replace("calendar: care-hours", "calendar: always") + BOT_ANSWERS)
    return path


def _inquiry() -> Inquiry:
    inquiry = Inquiry.model_validate_json((ROOT / "examples/inquiries/question.json").read_text())
    return inquiry.model_copy(update={"conversation_id": uuid.uuid4().hex[:12]})


async def _status(handle: WorkflowHandle[Any, Any]) -> InquiryStatus:
    return await handle.query(InquiryWorkflow.status)


async def _send(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], ids: range) -> None:
    now = await env.get_current_time()
    for start in range(ids.start, ids.stop, 100):
        await asyncio.gather(
            *(
                handle.signal(
                    InquiryWorkflow.customer_message,
                    CustomerMessage(id=f"m-{n}", text=f"question {n}", at=now),
                )
                for n in range(start, min(start + 100, ids.stop))
            )
        )


class Outbox:
    """Counts the sandbox outbox's lines as they come: one per answer. (The bench waits on the
    outbox, not on status queries, which would wait their turn behind the workflow's tasks.)"""

    def __init__(self, path: Path) -> None:
        self.path, self.lines, self._offset = path, 0, 0

    async def reach(self, lines: int) -> None:
        while self.lines < lines:
            if self.path.exists():
                with self.path.open("rb") as handle:
                    handle.seek(self._offset)
                    self.lines += handle.read().count(b"\n")
                    self._offset = handle.tell()
            if self.lines < lines:
                await asyncio.sleep(0.005)


async def _largest_event(
    env: WorkflowEnvironment, workflow_id: str, run_id: str
) -> tuple[int, str, int]:
    """The size and type of one run's largest history event, and the messages its run carried
    in unanswered (a burst that came faster than the run answered)."""
    handle = env.client.get_workflow_handle(workflow_id, run_id=run_id)
    history = await handle.fetch_history()
    event = max(history.events, key=lambda e: e.ByteSize())
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    carried = await handle.fetch_history()
    first = carried.events[0].workflow_execution_started_event_attributes.input.payloads
    state = pydantic_data_converter.payload_converter.from_payloads(first, [InquiryInput])[0].state
    return event.ByteSize(), kind, len(state.inbox) if state is not None else 0


async def bench(batch: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="careflow-bench-"))
    settings = Settings(
        rules=str(_rules(home)),
        home=home,
        temporal=TemporalSettings(task_queue=f"bench-{uuid.uuid4().hex[:8]}"),
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    async with env, build_worker(env.client, settings):
        inquiry = _inquiry()
        handle = await env.client.start_workflow(
            InquiryWorkflow.run,
            InquiryInput(inquiry=inquiry, search_attributes=False),
            id=f"inquiry-bench-{inquiry.conversation_id}",
            task_queue=settings.temporal.task_queue,
            start_signal="customer_message",
            start_signal_args=[first_message(inquiry)],
        )
        latest = env.client.get_workflow_handle_for(InquiryWorkflow.run, handle.id)
        print(f"{'messages':>9} {'s/message':>10} {'ratio':>6} {'status KB':>10} {'runs':>5}")
        outbox = Outbox(settings.outbox)
        sent, baseline, largest_status = 0, 0.0, 0
        for size in SIZES:
            for start in range(sent, size, FILL):  # a conversation, not one flood
                await _send(env, latest, range(start, min(start + FILL, size)))
                await outbox.reach(min(start + FILL, size))
            started = time.perf_counter()
            await _send(env, latest, range(size, size + batch))
            await outbox.reach(size + batch)
            cost = (time.perf_counter() - started) / batch
            sent = size + batch
            baseline = baseline or cost
            status = await _status(latest)
            largest_status = max(largest_status, len(status.model_dump_json()))
            print(
                f"{size:>9,} {cost:>10.5f} {cost / baseline:>6.2f} "
                f"{len(status.model_dump_json()) / 1000:>10.1f} {status.runs:>5}",
                flush=True,
            )
        status = await _status(latest)
        runs = [*status.earlier.runs]
        current = (await latest.describe()).run_id
        events = [await _largest_event(env, handle.id, run) for run in [*runs, current]]
        size, kind, carried = max(events)
        print(
            f"largest history event over {len(events)} runs: {size / 1000:.1f} KB ({kind}, "
            f"{carried} unanswered messages carried in); largest status: "
            f"{largest_status / 1000:.1f} KB (Temporal's limit: 2,048 KB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=200, help="messages timed at each size")
    args = parser.parse_args()
    asyncio.run(bench(args.batch))
    sys.stdout.flush()
    os._exit(0)  # the SDK's Rust threads can abort CPython's teardown (sdk-python#300)


if __name__ == "__main__":
    main()
