"""``careflow audit report``: one inquiry's story for a person, from its workflow.

Built from the workflow's own record (its result when closed, its status query while open):
the post, the ruleset and its hash, every rule that fired and why, every message, every clock
with its due times and verdict, and the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus

from careflow.engine.post import Inquiry
from careflow.temporal import inquiries
from careflow.temporal.explain import explained
from workflows.inquiry import InquiryWorkflow
from workflows.rating import Rating
from workflows.state import (
    ClockView,
    EarlierView,
    Escalation,
    FiredRule,
    InquiryStatus,
    Message,
    TimelineEntry,
)

ClockVerdict = Literal["met", "missed internal", "breached published", "pending"]


class ClockLine(BaseModel):
    """One clock instance: when it started, when it was due, what happened."""

    clock: str
    started_at: datetime
    internal_due: datetime
    published_due: datetime
    verdict: ClockVerdict
    met_at: datetime | None
    stopped_at: datetime | None


class Outcome(BaseModel):
    state: str  # open, closed, dropped, or the workflow's status when it did not end normally
    step: str
    close_reason: str | None
    resolution_code: str | None
    resolution_note: str | None
    reopens: int
    escalations: list[Escalation]
    first_response_seconds: float | None
    resolution_seconds: float | None
    rating: Rating | None = None  # the customer's CSAT rating, when the follow-up asked


class InquiryReport(BaseModel):
    """Everything an auditor reads about one inquiry."""

    id: str
    inquiry: Inquiry
    ruleset: dict[str, str]
    category: str
    priority: str
    queue: str
    windows: str
    privatize: str
    tags: list[str]
    agent: str | None
    fired: list[FiredRule]
    messages: list[Message]
    clocks: list[ClockLine]
    timeline: list[TimelineEntry]
    outcome: Outcome
    # What the status left out of a long conversation (the latest are shown), and where it is.
    earlier: EarlierView = EarlierView()


def verdict(clock: ClockView) -> ClockVerdict:
    """``breached published`` beats ``missed internal`` beats ``met``."""
    if clock.published == "missed":
        return "breached published"
    if clock.internal == "missed":
        return "missed internal"
    if clock.internal == "pending" or clock.published == "pending":
        return "pending"
    return "met"


def _clock_line(name: str, clock: ClockView) -> ClockLine:
    return ClockLine(
        clock=name,
        started_at=clock.started_at,
        internal_due=clock.internal_due,
        published_due=clock.published_due,
        verdict=verdict(clock),
        met_at=clock.met_at,
        stopped_at=clock.stopped_at,
    )


def _seconds_since_post(status: InquiryStatus, at: datetime | None) -> float | None:
    return (at - status.inquiry.created_at).total_seconds() if at is not None else None


def build_report(status: InquiryStatus, state: str) -> InquiryReport:
    """The report of an inquiry whose status is ``status``."""
    earlier = [
        _clock_line(str(entry["name"]), ClockView.model_validate(entry))
        for entry in status.earlier_clocks
    ]
    current = [_clock_line(name, clock) for name, clock in status.clocks.items()]
    clocks = sorted([*earlier, *current], key=lambda line: (line.started_at, line.clock))
    first_out = next((m.at for m in status.messages if m.direction == "out"), None)
    resolved = [entry.at for entry in status.timeline if entry.event == "resolved"]
    if status.earlier.messages:  # the first reply is among the messages left out
        first_out = status.first_response_at
    if status.earlier.timeline and status.resolved_at is not None:
        resolved = [status.resolved_at]
    return InquiryReport(
        id=status.id,
        inquiry=status.inquiry,
        ruleset=status.ruleset,
        category=status.category,
        priority=status.priority,
        queue=status.queue,
        windows=status.windows,
        privatize=status.privatize,
        tags=status.tags,
        agent=status.agent,
        fired=status.why,
        messages=status.messages,
        clocks=clocks,
        timeline=status.timeline,
        earlier=status.earlier,
        outcome=Outcome(
            state=state,
            step=status.step,
            close_reason=status.close_reason,
            resolution_code=status.resolution_code,
            resolution_note=status.resolution_note,
            reopens=status.reopens,
            escalations=status.escalations,
            first_response_seconds=_seconds_since_post(status, first_out),
            resolution_seconds=_seconds_since_post(status, resolved[-1] if resolved else None),
            rating=status.rating,
        ),
    )


async def fetch_report(client: Client, workflow_id: str) -> InquiryReport:
    """The report of inquiry ``workflow_id``, open or closed (its latest run)."""
    handle = client.get_workflow_handle_for(InquiryWorkflow.run, workflow_id)
    with explained(client, workflow_id):
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            result = await handle.result()
            return build_report(result.status, result.kind)
    status = await inquiries.status(client, workflow_id)
    running = description.status == WorkflowExecutionStatus.RUNNING
    state = "open" if running else (description.status.name.lower() if description.status else "?")
    return build_report(status, state)
