"""A conversation that never ends (a bot talking to careflow, a complaint thread for months)
stays within bounds: what continue-as-new carries, the status and the result stay small, and
the inquiry still answers, counts redeliveries and remembers missed windows."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from tests.harness import Harness, careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, CustomerMessage, ReplyRequest, ResolveRequest
from workflows.state import SHOWN_MESSAGES, SHOWN_TIMELINE, InquiryStatus

# Every customer message gets a scripted answer: one exchange per signal, no agent needed.
BOT_ANSWERS = """
  - name: bot-answers
    on: customer.message
    do: [{reply: {template: ack}}]
"""
EXCHANGES = 5_000
ROUNDS = 5  # a resolve and a reopen after each
BOUND = 300_000  # bytes: far under Temporal's 2 MB payload limit, whatever the length
# Temporal's time-skipping server skips time only while the client waits on a result.
CLOSE_AFTER = timedelta(days=5)


async def _say_many(h: Harness, handle: WorkflowHandle[Any, Any], first: int, count: int) -> None:
    """``count`` customer messages, sent a batch at a time as a busy platform would."""
    for start in range(first, first + count, 100):
        now = await h.now()
        await asyncio.gather(
            *(
                handle.signal(
                    InquiryWorkflow.customer_message,
                    CustomerMessage(id=f"m-{n}", text=f"question {n}", at=now),
                )
                for n in range(start, min(start + 100, first + count))
            )
        )


async def _until_all_answered(
    h: Harness, handle: WorkflowHandle[Any, Any], messages: int
) -> InquiryStatus:
    """The status once ``messages`` are in the record (kept or counted). Asked every half second:
    the worker is busy answering, and a query waits its turn behind the workflow's tasks."""
    for _ in range(240):
        status = await h.status(handle)
        if status.earlier.messages + len(status.messages) >= messages:
            return status
        await asyncio.sleep(0.5)
    raise AssertionError(f"not all {messages} messages were answered in two minutes")


def _size(status: InquiryStatus) -> int:
    return len(status.model_dump_json())


async def _largest_event(h: Harness, workflow_id: str, run_id: str) -> int:
    """The largest event of one run's history: its start (the carried state) or its end."""
    history = await h.env.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return max(event.ByteSize() for event in history.events)


def test_five_thousand_exchanges_with_reopens_stay_bounded(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path, BOT_ANSWERS)) as h:
            handle = await h.start(example("question", await h.now()), history_limit=4_000)
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            latest = h.env.client.get_workflow_handle_for(InquiryWorkflow.run, handle.id)
            sizes: list[int] = []
            sent = 0
            for round in range(ROUNDS):
                await _say_many(h, latest, sent, EXCHANGES // ROUNDS)
                sent += EXCHANGES // ROUNDS
                status = await _until_all_answered(h, latest, 2 + 2 * sent + round)
                sizes.append(_size(status))
                await latest.execute_update(
                    InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
                )
                await h.say(latest, "still broken", id=f"reopen-{round}")
                reopens = round + 1
                await h.until(latest, lambda s: s.reopens == reopens)  # noqa: B023

            status = await h.status(latest)
            # The post, the acknowledgement, each question and its answer, each "still broken"
            # (and the follow-up's close-the-loop messages that never went: resolved and reopened
            # at once): the latest shown, every one counted.
            assert len(status.messages) == SHOWN_MESSAGES
            assert len(status.timeline) <= SHOWN_TIMELINE
            assert status.earlier.messages + len(status.messages) == 2 + 2 * EXCHANGES + ROUNDS
            assert (
                status.messages[-1].text == "still broken" and status.messages[-2].kind == "reply"
            )
            assert status.runs > 5 and status.earlier.run_count == status.runs - 1
            assert status.earlier.runs[0] == handle.result_run_id
            assert status.reopens == ROUNDS
            assert max(sizes) < BOUND

            # Still answers: a redelivery of a recent message is caught, an agent can reply.
            await h.say(latest, "question again", id=f"m-{EXCHANGES - 1}")
            await latest.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="On it.")
            )
            status = await h.status(latest)
            assert status.duplicate_deliveries == 1
            assert status.messages[-1].text.startswith("On it.")

            await latest.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(CLOSE_AFTER)
            result = await latest.result()
            assert result.status.step == "closed"
            assert len(result.model_dump_json()) < BOUND
            # What continue-as-new carried, run after run, and each run's end.
            for run_id in status.earlier.runs:
                assert await _largest_event(h, handle.id, run_id) < BOUND

    asyncio.run(scenario())
