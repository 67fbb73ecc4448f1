"""Is anyone there? Whether Temporal answers and a worker polls careflow's task queue.

An intake that takes posts in while no worker runs answers every platform 200, and nothing
happens: inquiries wait, unacknowledged, until someone notices. ``GET /health`` and the start-up
warning of ``careflow api`` and ``careflow up`` say so instead. The answer holds counts and ages
only: no workflow ids, no worker identities (host names), no customer data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

from careflow.errors import CareflowError

log = logging.getLogger("careflow.temporal.health")

# A worker's long poll lasts about a minute and the server remembers a poller for minutes after
# it stopped: one not seen for two minutes is gone.
POLLER_GONE_AFTER = timedelta(minutes=2)
DESCRIBE_TIMEOUT = timedelta(seconds=5)
KINDS: dict[Literal["workflow", "activity"], TaskQueueType.ValueType] = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


class Pollers(BaseModel):
    """One task queue type (workflow or activity tasks) as the server describes it."""

    kind: Literal["workflow", "activity"]
    pollers: int  # workers polling recently (within POLLER_GONE_AFTER)
    last_poll_seconds_ago: float | None  # the most recent poll, by any worker
    backlog: int | None  # tasks waiting, when the server reports it
    backlog_age_seconds: float | None  # how long the oldest has waited


class Health(BaseModel):
    """The ``GET /health`` body: ``ok`` with nothing in ``problems``, else what is wrong."""

    ok: bool
    temporal_reachable: bool
    task_queue: str
    queues: list[Pollers]
    problems: list[str]


async def check(client: Client, task_queue: str) -> Health:
    """The task queue's pollers and backlog, for workflow and activity tasks."""
    try:
        queues = await asyncio.gather(*(_describe(client, task_queue, kind) for kind in KINDS))
    except RPCError as error:
        return unreachable(task_queue, f"Temporal did not describe the task queue: {error}")
    problems = [
        f"no worker is polling task queue {task_queue!r} for {queue.kind} tasks"
        for queue in queues
        if queue.pollers == 0
    ]
    return Health(
        ok=not problems,
        temporal_reachable=True,
        task_queue=task_queue,
        queues=list(queues),
        problems=problems,
    )


def unreachable(task_queue: str, problem: str) -> Health:
    """The answer when Temporal cannot be asked at all."""
    return Health(
        ok=False, temporal_reachable=False, task_queue=task_queue, queues=[], problems=[problem]
    )


async def _describe(
    client: Client, task_queue: str, kind: Literal["workflow", "activity"]
) -> Pollers:
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=KINDS[kind],
            report_stats=True,  # backlog count and age, on servers that keep them (1.25+)
        ),
        timeout=DESCRIBE_TIMEOUT,
    )
    now = datetime.now(UTC)
    ages = [
        (now - poller.last_access_time.ToDatetime(UTC)).total_seconds()
        for poller in answer.pollers
        if poller.HasField("last_access_time")
    ]
    stats = answer.stats if answer.HasField("stats") else None
    return Pollers(
        kind=kind,
        pollers=sum(age <= POLLER_GONE_AFTER.total_seconds() for age in ages),
        last_poll_seconds_ago=round(min(ages), 1) if ages else None,
        backlog=stats.approximate_backlog_count if stats is not None else None,
        backlog_age_seconds=(
            stats.approximate_backlog_age.ToTimedelta().total_seconds()
            if stats is not None
            else None
        ),
    )


async def warn_without_worker(client: Client, task_queue: str, grace: float = 0.0) -> Health:
    """At start: one warning line unless a worker polls the task queue within ``grace``
    seconds (``careflow up`` starts its own worker a moment after the intake)."""
    deadline = asyncio.get_running_loop().time() + grace
    while True:
        health = await check(client, task_queue)
        if health.ok or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.5)
    if not health.ok:
        problems = "; ".join(health.problems)
        log.warning("%s (posts taken in wait until a worker polls: careflow worker)", problems)
    return health


async def warn_at_start(connect: Callable[[], Awaitable[Client]], task_queue: str) -> None:
    """``careflow api`` at start: one warning line when Temporal cannot be reached or no worker
    polls the task queue; the intake serves either way (deliveries get 503 until Temporal
    answers)."""
    try:
        client = await connect()
    except (CareflowError, RuntimeError, OSError, TemporalError) as error:
        log.warning("Temporal is not reachable (deliveries answer 503 until it is): %s", error)
        return
    await warn_without_worker(client, task_queue)
