"""The proactive-post workflow on the time-skipping server: a draft waits for a supervisor;
approval posts once (even when the platform fails first), rejection and expiry post nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.adapters.sandbox import SandboxAdapter
from activities.types import Delivery, Outbound
from tests.harness import Harness, careflow, keep_history, round_the_clock_pack
from tests.workflows.test_replay_proactive import TREND_HISTORIES
from workflows.proactive import ProactivePostWorkflow
from workflows.proactive_types import (
    ApproveRequest,
    ProactiveInput,
    ProactiveStatus,
    RejectRequest,
)

DRAFT = "We know the app is down in Denver. We're on it and will update here."


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def proactive_input(**changes: Any) -> ProactiveInput:
    data: dict[str, Any] = {
        "trend": "outage-spike",
        "topic": "outage",
        "segment": "denver",
        "period_start": datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        "count": 18,
        "baseline": 2.0,
        "channel": "x",
        "draft": DRAFT,
        "approvers": "supervisors",
        "wait_seconds": 3600,
    }
    return ProactiveInput(**{**data, **changes})


async def start(h: Harness, **changes: Any) -> WorkflowHandle[Any, ProactiveStatus]:
    return await h.env.client.start_workflow(
        ProactivePostWorkflow.run,
        proactive_input(**changes),
        id=f"proactive-outage-spike-denver-{uuid.uuid4().hex[:8]}",
        task_queue=h.settings.temporal.task_queue,
    )


def posts(h: Harness) -> list[dict[str, Any]]:
    return [entry for entry in h.outbox() if entry["kind"] == "proactive_post"]


async def notified(h: Harness) -> list[dict[str, Any]]:
    for _ in range(200):
        found = [entry for entry in h.outbox() if entry["kind"] == "notification"]
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the approvers were never told")


class FlakyAdapter(SandboxAdapter):
    """The platform answers the first public post with an error after posting it (the answer
    is lost), then refuses the second attempt outright; the third goes through."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.attempts = 0

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        if outbound.kind != "proactive_post":
            return await super().deliver(outbound, text)
        self.attempts += 1
        if self.attempts == 1:
            await super().deliver(outbound, text)
            raise RuntimeError("connection reset after the post went out")
        if self.attempts == 2:
            raise RuntimeError("503 Service Unavailable")
        return await super().deliver(outbound, text)


def test_approval_posts_the_edited_text_once_even_when_the_platform_fails_twice(
    tmp_path: Path,
) -> None:
    adapter = FlakyAdapter(tmp_path / "outbox.jsonl")

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await start(h)
            (note,) = await notified(h)
            assert note["to"] == "supervisors"
            assert (
                DRAFT in note["text"] and f"careflow proactive approve {handle.id}" in note["text"]
            )
            assert posts(h) == []
            edited = "The app is down in Denver: we're on it, updates here."
            status = await handle.execute_update(
                ProactivePostWorkflow.approve, ApproveRequest(by="Sam", text=edited)
            )
            assert status.status == "posted" and status.decided_by == "Sam"
            assert status.post_url and status.post_id and status.post_id in status.post_url
            result = await handle.result()
            assert result.status == "posted" and result.text == edited
            assert adapter.attempts == 3
            (post,) = posts(h)
            assert post["text"] == edited and post["key"] == f"{handle.id}/post"
            await keep_history(handle, "proactive-approved", TREND_HISTORIES)
            with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # decided, and done
                await handle.execute_update(
                    ProactivePostWorkflow.reject, RejectRequest(by="Sam", reason="late")
                )

    run(scenario())


def test_rejection_posts_nothing_and_keeps_the_reason(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await start(h)
            await notified(h)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    ProactivePostWorkflow.reject, RejectRequest(by="Sam", reason=" ")
                )
            assert "needs a reason" in str(refused.value.cause)
            await handle.execute_update(
                ProactivePostWorkflow.reject,
                RejectRequest(by="Sam", reason="only three stores, not the app"),
            )
            result = await handle.result()
            assert result.status == "rejected"
            assert result.reason == "only three stores, not the app"
            assert posts(h) == []
            await keep_history(handle, "proactive-rejected", TREND_HISTORIES)

    run(scenario())


def test_a_draft_nobody_decides_expires_and_posts_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await start(h, wait_seconds=1800)
            await notified(h)
            await h.skip(timedelta(minutes=31))
            result = await handle.result()
            assert result.status == "expired"
            assert posts(h) == []
            await keep_history(handle, "proactive-expired", TREND_HISTORIES)
            with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # too late
                await handle.execute_update(ProactivePostWorkflow.approve, ApproveRequest(by="Sam"))

    run(scenario())
