"""Is anyone there? Whether Temporal answers and a worker polls careflow's task queue, and
whether the workers keep up.

An intake that takes posts in while no worker runs answers every platform 200, and nothing
happens: inquiries wait, unacknowledged, until someone notices. ``GET /health`` and the start-up
warning of ``careflow api`` and ``careflow up`` say so instead. A surge does the same more
quietly: the workers poll, but posts wait behind hundreds of others, so ``GET /health`` also says
how many inquiries are unacknowledged, how long the oldest has waited, and how far the workers
are behind (``Acknowledgements``). The answer holds counts and ages only: no workflow ids, no
worker identities (host names), no customer data.
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
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from careflow.engine.durations import parse_duration
from careflow.engine.ruleset import Ruleset
from careflow.errors import CareflowError
from careflow.temporal.inquiries import OPEN_QUERY
from workflows import search

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


# Open inquiries not yet acknowledged: no worker has triaged them yet (no step indexed), or they
# are in the acknowledge step. Those no worker has triaged yet are waiting for a worker only.
UNACKNOWLEDGED_QUERY = (
    f"{OPEN_QUERY} AND ({search.STEP.name} IS NULL OR {search.STEP.name} = 'acknowledge')"
)
UNTRIAGED_QUERY = f"{OPEN_QUERY} AND {search.STEP.name} IS NULL"
# Ages are found by halving, one count query each: to this precision, at most this far back.
AGE_PRECISION = timedelta(seconds=1)
AGE_HORIZON = timedelta(days=365)


class Acknowledgements(BaseModel):
    """Whether the workers keep up with acknowledgements: counts and ages, from visibility.

    ``lag_seconds`` is how long posts wait for a worker: the oldest inquiry no worker has
    triaged yet, or, while any inquiry is unacknowledged, the oldest workflow task in the
    backlog, whichever is older. It is what
    grows in a surge, whatever the calendars and the agents do; the oldest unacknowledged
    inquiry may also be waiting, rightly, for an agent after hours.
    """

    unacknowledged: int  # open inquiries not yet acknowledged
    oldest_unacknowledged_seconds: float | None  # since the intake started the oldest one
    untriaged: int  # of those, the ones no worker has run yet
    oldest_untriaged_seconds: float | None
    lag_seconds: float
    internal_target_seconds: float | None  # the rule file's acknowledgement target, when known
    behind: bool  # lag_seconds is over the internal target


class Health(BaseModel):
    """The ``GET /health`` body: ``ok`` with nothing in ``problems``, else what is wrong;
    ``warnings`` for what is degraded but working."""

    ok: bool
    temporal_reachable: bool
    task_queue: str
    queues: list[Pollers]
    problems: list[str]
    # Degraded, not down: acknowledgements behind. /health stays 200 so a load balancer keeps
    # sending posts to the intake in a surge; uptime checks and the worker's notification say it.
    warnings: list[str] = []
    acknowledgements: Acknowledgements | None = None  # None when visibility could not be asked


async def check(
    client: Client,
    task_queue: str,
    ack_target: timedelta | None = None,
    acknowledgements: bool = True,
) -> Health:
    """The task queue's pollers and backlog, for workflow and activity tasks, and (unless
    ``acknowledgements`` is off) how far acknowledgements are behind: a problem when they are
    further behind than ``ack_target``, the internal acknowledgement target."""
    try:
        queues = await asyncio.gather(*(_describe(client, task_queue, kind) for kind in KINDS))
    except RPCError as error:
        return unreachable(task_queue, f"Temporal did not describe the task queue: {error}")
    problems = [
        f"no worker is polling task queue {task_queue!r} for {queue.kind} tasks"
        for queue in queues
        if queue.pollers == 0
    ]
    acks = None
    if acknowledgements:
        try:
            acks = await acknowledgement_lag(client, list(queues), ack_target)
        except RPCError as error:
            log.warning("visibility did not answer: %s", error)
    warnings: list[str] = []
    if acks is not None and acks.behind:
        warnings.append(
            f"acknowledgements are falling behind: posts wait {acks.lag_seconds:.0f} s for a "
            f"worker, over the {acks.internal_target_seconds:.0f} s internal acknowledgement "
            "target (start more worker processes)"
        )
    return Health(
        ok=not problems,
        temporal_reachable=True,
        task_queue=task_queue,
        queues=list(queues),
        problems=problems,
        warnings=warnings,
        acknowledgements=acks,
    )


def acknowledgement_target(ruleset: Ruleset) -> timedelta:
    """The internal acknowledgement target of an ordinary inquiry: the default windows'."""
    rules = ruleset.rule_file
    return parse_duration(rules.windows[rules.defaults.windows].acknowledge.internal)


async def acknowledgement_lag(
    client: Client, queues: list[Pollers], ack_target: timedelta | None
) -> Acknowledgements:
    """Counts and ages of the open inquiries not yet acknowledged (visibility), and the lag."""
    now = datetime.now(UTC)
    unacknowledged, oldest = await _oldest(client, UNACKNOWLEDGED_QUERY, now)
    untriaged, oldest_untriaged = await _oldest(client, UNTRIAGED_QUERY, now)
    backlog = max(
        (q.backlog_age_seconds or 0.0 for q in queues if q.kind == "workflow"), default=0.0
    )
    # Queued workflow tasks hold acknowledgements up only while some inquiry waits for one
    # (the server's backlog figures are also a few seconds stale).
    lag = max(backlog if unacknowledged else 0.0, oldest_untriaged or 0.0)
    target = ack_target.total_seconds() if ack_target is not None else None
    return Acknowledgements(
        unacknowledged=unacknowledged,
        oldest_unacknowledged_seconds=oldest,
        untriaged=untriaged,
        oldest_untriaged_seconds=oldest_untriaged,
        lag_seconds=round(lag, 1),
        internal_target_seconds=target,
        behind=target is not None and lag > target,
    )


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query, rpc_timeout=DESCRIBE_TIMEOUT)).count


async def _oldest(client: Client, query: str, now: datetime) -> tuple[int, float | None]:
    """How many workflows ``query`` finds, and the age of the oldest since it started.

    Visibility on SQL stores cannot sort oldest first, and listing every open inquiry in a surge
    costs a page of memos per hundred; so the age is found by doubling, then halving, a
    ``StartTime <`` bound: a count query each, about 2 log2(age) of them, never a list.
    """
    total = await _count(client, query)
    if total == 0:
        return 0, None

    async def older_than(age: timedelta) -> bool:
        bound = (now - age).isoformat().replace("+00:00", "Z")
        return await _count(client, f"{query} AND StartTime < '{bound}'") > 0

    young, old = timedelta(0), AGE_PRECISION  # some started before now - young, none before old
    while await older_than(old):
        young, old = old, old * 2
        if old > AGE_HORIZON:
            return total, AGE_HORIZON.total_seconds()
    while old - young > AGE_PRECISION:
        middle = young + (old - young) / 2
        if await older_than(middle):
            young = middle
        else:
            old = middle
    return total, round(young.total_seconds(), 1)


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
        health = await check(client, task_queue, acknowledgements=False)
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


LAG_METRIC = "careflow_acknowledgement_lag"
WATCH_INTERVAL = timedelta(seconds=30)
Notify = Callable[[str, str], Awaitable[None]]  # (idempotency key, text)


class LagWatch:
    """Every ``interval``: the acknowledgement lag as a metric (``careflow_acknowledgement_lag``,
    seconds, by task queue), and a notification to supervisors when acknowledgements fall behind
    the internal target, and again when they have caught up: once per episode, not per check."""

    def __init__(self, client: Client, task_queue: str, target: timedelta, notify: Notify) -> None:
        self.client = client
        self.task_queue = task_queue
        self.target = target
        self.notify = notify
        self.behind_since: datetime | None = None
        runtime = client.service_client.config.runtime or Runtime.default()
        self.gauge = runtime.metric_meter.create_gauge_float(
            LAG_METRIC, "How long posts wait for a worker", "s"
        )

    async def once(self) -> Health:
        """One check: the metric, and a notification when the episode starts or ends."""
        health = await check(self.client, self.task_queue, self.target)
        acks = health.acknowledgements
        if acks is None:
            return health
        self.gauge.set(acks.lag_seconds, {"task_queue": self.task_queue})
        episode = f"acknowledgements-behind/{self.task_queue}/"
        if acks.behind and self.behind_since is None:
            self.behind_since = datetime.now(UTC)
            await self._send(
                episode + self.behind_since.strftime("%Y%m%dT%H%M"),
                f"careflow: acknowledgements are falling behind on task queue "
                f"{self.task_queue!r}: posts wait {acks.lag_seconds:.0f} s for a worker, over the "
                f"{self.target.total_seconds():.0f} s internal target; {acks.unacknowledged} "
                f"inquiries unacknowledged, the oldest for {acks.oldest_unacknowledged_seconds or 0:.0f}"
                " s. Start more worker processes.",
            )
        elif not acks.behind and self.behind_since is not None:
            since, self.behind_since = self.behind_since, None
            await self._send(
                episode + since.strftime("%Y%m%dT%H%M") + "/caught-up",
                f"careflow: acknowledgements on task queue {self.task_queue!r} are back within "
                f"the {self.target.total_seconds():.0f} s internal target "
                f"(posts wait {acks.lag_seconds:.0f} s).",
            )
        return health

    async def _send(self, key: str, text: str) -> None:
        log.warning("%s", text)
        try:
            await self.notify(key, text)
        except Exception as error:  # a notification that fails must not stop the worker
            log.warning("supervisors could not be notified: %s: %s", type(error).__name__, error)

    async def run(self, interval: timedelta = WATCH_INTERVAL) -> None:
        """Check until cancelled; a check that fails is logged and the next one tried."""
        while True:
            try:
                await self.once()
            except (RPCError, TemporalError) as error:
                log.warning("acknowledgement lag not checked: %s", error)
            await asyncio.sleep(interval.total_seconds())
