"""``careflow audit replay``: histories replayed against the current workflow code.

The Replayer gets the worker's own data converter (and so its codec) and plugins, so a history replays here
exactly as it would on a worker; any non-determinism names the workflow and the event. Each
history's rules text is also hashed again and compared with its recorded digest
(``careflow.audit.rules_check``). A redacted history is not replayed (its customer text was
masked, so the rules would decide differently): it is reported as redacted, not as failing.
Nor is an encrypted history whose keys are not configured here: it is reported as locked, with
the key ids it needs (``careflow.audit.locked``), not as non-deterministic or tampered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from careflow.audit.locked import missing_keys
from careflow.audit.redact import is_redacted
from careflow.audit.rules_check import rules_problems, tzdata_note
from careflow.temporal.connection import Connection
from workflows.inquiry import InquiryWorkflow


@dataclass(frozen=True)
class ReplayOutcome:
    """One history's replay: ``error`` is None when it replayed clean; ``tampered`` lists what
    the history contradicts in itself (rules text that does not match its digest)."""

    workflow_id: str
    run_id: str
    error: str | None
    tampered: list[str] = field(default_factory=list)
    redacted: bool = False
    locked_by: list[str] = field(default_factory=list)  # key ids needed and not configured
    note: str | None = None  # worth knowing, not a failure (another tz database release)

    @property
    def clean(self) -> bool:
        return self.error is None and not self.tampered and not self.redacted and not self.locked_by


def replayer(connection: Connection) -> Replayer:
    """A Replayer configured as the worker is."""
    return Replayer(
        workflows=[InquiryWorkflow],
        data_converter=connection.converter,
        plugins=connection.observed.plugins,
    )


def _run_id(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.original_execution_run_id


async def replay(
    connection: Connection, histories: AsyncIterator[WorkflowHistory] | Iterable[WorkflowHistory]
) -> AsyncIterator[ReplayOutcome]:
    """Replay each history, yielding its outcome as soon as it is known (redacted ones, which
    are not replayed, at the end)."""
    redacted: list[WorkflowHistory] = []
    locked: list[tuple[WorkflowHistory, list[str]]] = []
    codec = connection.converter.payload_codec

    def replayable(history: WorkflowHistory) -> bool:
        if is_redacted(history):
            redacted.append(history)
            return False
        needed = missing_keys(history, codec)
        if needed:
            locked.append((history, needed))
        return not needed

    async def stream() -> AsyncIterator[WorkflowHistory]:
        if isinstance(histories, AsyncIterator):
            async for history in histories:
                if replayable(history):
                    yield history
        else:
            for history in histories:
                if replayable(history):
                    yield history

    async with replayer(connection).workflow_replay_iterator(stream()) as results:
        async for result in results:
            history = result.history
            failure = result.replay_failure
            yield ReplayOutcome(
                workflow_id=history.workflow_id,
                run_id=_run_id(history),
                error=None if failure is None else f"{type(failure).__name__}: {failure}",
                tampered=await rules_problems(history, connection.converter),
                note=await tzdata_note(history, connection.converter),
            )
    for history in redacted:
        yield ReplayOutcome(history.workflow_id, _run_id(history), None, redacted=True)
    for history, needed in locked:
        yield ReplayOutcome(history.workflow_id, _run_id(history), None, locked_by=needed)
