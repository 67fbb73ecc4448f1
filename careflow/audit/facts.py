"""What a history says about itself: which workflow, which run, and where it sits in its
continue-as-new chain. Read from the events, never from a file name, so a history renamed or
exported by another tool is still known for what it is."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued as new",
}


@dataclass(frozen=True)
class RunFacts:
    """One run of a workflow as its history tells it."""

    workflow_id: str  # "" when the history does not say (older servers, the test server)
    run_id: str
    first_run_id: str  # the chain's first run (this one for a first run)
    continued_from: str | None  # the run this one continued, None for a first run
    continued_to: str | None  # the run this one continued as, None unless it did
    ended: str | None  # completed, failed, …, continued as new; None while open


def facts_of(history: WorkflowHistory) -> RunFacts:
    """The facts of ``history`` (which has at least its started event)."""
    started = history.events[0].workflow_execution_started_event_attributes
    last = history.events[-1]
    continued_to = None
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        continued_to = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        )
    run_id = started.original_execution_run_id
    return RunFacts(
        workflow_id=started.workflow_id,
        run_id=run_id,
        first_run_id=started.first_execution_run_id or run_id,
        continued_from=started.continued_execution_run_id or None,
        continued_to=continued_to or None,
        ended=_CLOSED.get(last.event_type),
    )


def is_started(history: WorkflowHistory) -> bool:
    """Whether ``history`` opens as a workflow history does."""
    return bool(history.events) and (
        history.events[0].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    )
