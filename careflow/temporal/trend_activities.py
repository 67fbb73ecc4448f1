"""The trend watcher's activities: counting through visibility, and starting a proactive post.

``count_trends`` makes one visibility count per window asked (``trend_watch_logic.wanted``
keeps that to one per pair and tick once a week of counts is kept). ``start_proactive`` renders
the draft in Jinja2's sandbox and starts the proactive-post workflow under its id; an id that
exists (a retried tick, a spike seen by two ticks of one period) starts nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from careflow.engine.templates import TemplateRenderError, render_template
from careflow.temporal.inquiries import quoted
from careflow.temporal.insights import period_query, topic_clause
from workflows import search
from workflows.proactive import ProactivePostWorkflow
from workflows.trend_types import (
    COUNT_TRENDS,
    START_PROACTIVE,
    CountRequest,
    CountResult,
    StartRequest,
    StartResult,
    WindowCount,
)

Counter = Callable[[str], Awaitable[int]]
CONCURRENT_COUNTS = 8


def window_query(window: WindowCount) -> str:
    """Inquiries of the window's topic in its segment, started in [start, end)."""
    return (
        f"{period_query(window.start, window.end)} AND {topic_clause(window.topic)} "
        f"AND {search.SEGMENT.name} = {quoted(window.segment)}"
    )


class TrendActivities:
    """Bound to the worker's client and task queue; ``counter`` makes one count (visibility's,
    unless a test gives its own)."""

    def __init__(self, client: Client, task_queue: str, counter: Counter | None = None) -> None:
        self.client = client
        self.task_queue = task_queue
        self.counter = counter or self._count

    async def _count(self, query: str) -> int:
        return (await self.client.count_workflows(query)).count

    @activity.defn(name=COUNT_TRENDS)
    async def count_trends(self, request: CountRequest) -> CountResult:
        gate = asyncio.Semaphore(CONCURRENT_COUNTS)

        async def one(window: WindowCount) -> int:
            async with gate:
                return await self.counter(window_query(window))

        return CountResult(counts=list(await asyncio.gather(*map(one, request.windows))))

    @activity.defn(name=START_PROACTIVE)
    async def start_proactive(self, request: StartRequest) -> StartResult:
        try:
            draft = render_template(request.template, request.input.variables)
        except TemplateRenderError as error:
            raise ApplicationError(
                f"trend {request.input.trend}: {error}",
                type="TemplateRenderError",
                non_retryable=True,
            ) from None
        try:
            await self.client.start_workflow(
                ProactivePostWorkflow.run,
                request.input.model_copy(update={"draft": draft}),
                id=request.workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return StartResult(started=False)
        return StartResult(started=True)
