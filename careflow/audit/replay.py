"""``careflow audit replay``: histories replayed against the current workflow code.

The Replayer gets the worker's own data converter (and so its codec) and plugins, so a history replays here
exactly as it would on a worker; any non-determinism names the workflow and the event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from careflow.temporal.connection import Connection
from workflows.inquiry import InquiryWorkflow


@dataclass(frozen=True)
class ReplayOutcome:
    """One history's replay: ``error`` is None when it replayed clean."""

    workflow_id: str
    run_id: str
    error: str | None


def replayer(connection: Connection) -> Replayer:
    """A Replayer configured as the worker is."""
    return Replayer(
        workflows=[InquiryWorkflow],
        data_converter=connection.converter,
        plugins=connection.observed.plugins,
    )


async def replay(
    connection: Connection, histories: AsyncIterator[WorkflowHistory] | Iterable[WorkflowHistory]
) -> AsyncIterator[ReplayOutcome]:
    """Replay each history, yielding its outcome as soon as it is known."""

    async def stream() -> AsyncIterator[WorkflowHistory]:
        if isinstance(histories, AsyncIterator):
            async for history in histories:
                yield history
        else:
            for history in histories:
                yield history

    async with replayer(connection).workflow_replay_iterator(stream()) as results:
        async for result in results:
            history = result.history
            run_id = history.events[
                0
            ].workflow_execution_started_event_attributes.original_execution_run_id
            failure = result.replay_failure
            yield ReplayOutcome(
                workflow_id=history.workflow_id,
                run_id=run_id,
                error=None if failure is None else f"{type(failure).__name__}: {failure}",
            )
