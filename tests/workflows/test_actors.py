"""Who did what: an action's actor (name, role, channel, token id; or self-asserted from the CLI)
stays on the timeline entries the action made (``console-actors-recorded`` patch), and resolve,
reopen, escalate and assign take a reason code from the rule file's ``reasons`` lists, kept on
their entry (``console-reason-codes``). With CAREFLOW_RECORD_HISTORIES=1 the histories are saved
as ``actors-recorded`` and ``reason-codes`` for the replay test.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError

from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.actors import ACTORS_PATCH, Actor
from workflows.inquiry import InquiryWorkflow
from workflows.messages import (
    AcknowledgeRequest,
    AssignRequest,
    EscalateRequest,
    ReopenRequest,
    ResolveRequest,
)

ANA = Actor(
    name="Ana", role="agent", channel="console", token_id="3f8820d0ff6b", authenticated=True
)
SAM = Actor(
    name="Sam", role="supervisor", channel="api", token_id="9a1b2c3d4e5f", authenticated=True
)
BO_CLI = Actor(name="Bo", channel="cli", authenticated=False)


def test_each_action_keeps_who_did_it_on_its_timeline_entries(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.until(handle, lambda s: s.step == "acknowledge")
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", actor=ANA)
            )
            await handle.execute_update(
                InquiryWorkflow.assign, AssignRequest(agent="Sam", assignee="Bo", actor=SAM)
            )
            # A client from before actors were sent: its entries name nobody beyond the text.
            await handle.execute_update(
                InquiryWorkflow.assign, AssignRequest(agent="Sam", assignee="Cy")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Bo", code="answered", actor=BO_CLI)
            )
            status = await h.status(handle)
            by_event = {(e.event, e.detail): e.actor for e in status.timeline}
            assert by_event[("acknowledged", "Ana acknowledged the inquiry")] == ANA
            assert by_event[("assigned", "assigned to Bo by Sam")] == SAM
            assert by_event[("assigned", "assigned to Cy by Sam")] is None
            resolved = [e.event for e in status.timeline if e.actor == BO_CLI]
            assert resolved == ["resolved"]
            assert BO_CLI.describe() == "Bo from the CLI, self-asserted"
            assert ANA.describe() == "Ana (agent) in the console, token 3f8820d0ff6b"
            # What happened before anyone acted names no actor.
            assert status.timeline[0].actor is None
            # The actor reaches the status as JSON (the API's answer), never a token.
            dumped = json.loads(status.model_dump_json())
            assert {"name": "Ana", "role": "agent", "channel": "console"}.items() <= next(
                e["actor"] for e in dumped["timeline"] if e["actor"]
            ).items()

            await h.say(handle, "thanks, all good")
            await handle.result()
            history = await keep_history(handle, "actors-recorded")
            markers = [
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and ACTORS_PATCH.encode() in e.marker_recorded_event_attributes.SerializeToString()
            ]
            assert len(markers) == 1

    asyncio.run(scenario())


REASONS = (
    "reasons:\n"
    "  resolve: [answered, refunded]\n"
    "  reopen: [not_fixed, customer_asked]\n"
    "  escalate: [legal_threat, vip]\n"
    "  assign: [skills, workload]\n"
)


def reasons_pack(folder: Path) -> Path:
    """The round-the-clock pack with reason-code lists for every action that takes one."""
    path = round_the_clock_pack(folder)
    text = path.read_text()
    assert "\nrules:\n" in text
    path.write_text(text.replace("\nrules:\n", "\n" + REASONS + "rules:\n", 1))
    return path


def test_reason_codes_come_from_the_rule_files_lists_and_stay_on_the_timeline(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, reasons_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.until(handle, lambda s: s.step == "acknowledge")

            async def refused(update: Any, request: Any) -> str:
                with pytest.raises(WorkflowUpdateFailedError) as failed:
                    await handle.execute_update(update, request)
                return str(failed.value.cause)

            assign = AssignRequest(agent="Sam", assignee="Bo", actor=SAM)
            assert "a reason code is required: one of skills, workload" in await refused(
                InquiryWorkflow.assign, assign
            )
            await handle.execute_update(
                InquiryWorkflow.assign, assign.model_copy(update={"code": "skills"})
            )
            escalate = EscalateRequest(agent="Bo", to="supervisor", reason="says lawyer", code="x")
            assert "'x' is not a reason code of the rule file: use one of legal_threat, vip" in (
                await refused(InquiryWorkflow.escalate, escalate)
            )
            await handle.execute_update(
                InquiryWorkflow.escalate, escalate.model_copy(update={"code": "legal_threat"})
            )
            resolve = ResolveRequest(agent="Bo", code="fixed")
            assert "'fixed' is not a resolution code of the rule file" in await refused(
                InquiryWorkflow.resolve, resolve
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Bo", code="answered", note="FAQ")
            )
            assert "a reason code is required" in await refused(
                InquiryWorkflow.reopen, ReopenRequest(agent="Bo", reason="still broken")
            )
            await handle.execute_update(
                InquiryWorkflow.reopen,
                ReopenRequest(agent="Bo", reason="still broken", code="not_fixed", actor=BO_CLI),
            )
            status = await h.status(handle)
            coded = [(e.event, e.reason) for e in status.timeline if e.reason]
            assert coded == [
                ("assigned", "skills"),
                ("escalated", "legal_threat"),
                ("resolved", "answered"),
                ("reopened", "not_fixed"),
            ]
            reopened = next(e for e in status.timeline if e.event == "reopened")
            assert "still broken" in reopened.detail and reopened.actor == BO_CLI
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Bo", code="refunded")
            )
            await h.skip(timedelta(hours=24, minutes=1))
            await h.say(handle, "all good, thanks")
            await handle.result()
            await keep_history(handle, "reason-codes")

    asyncio.run(scenario())
