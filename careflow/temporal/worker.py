"""The worker: the inquiry workflow and its activities on one task queue.

``python worker.py`` and ``careflow worker`` run it as a service: configured by the environment
(``careflow.settings``), stopped gracefully by SIGTERM or SIGINT so in-flight activities finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.adapters.base import ChannelAdapter
from activities.adapters.sandbox import SandboxAdapter
from activities.outbound import OutboundActivities
from activities.rules import RulesActivities
from activities.types import Outbound
from careflow.engine.ruleset import RuleFileError, Ruleset, load_ruleset
from careflow.errors import ConfigurationError
from careflow.settings import Settings
from careflow.temporal.connection import Connection, connect, encryption_summary
from careflow.temporal.health import LagWatch, acknowledgement_target
from careflow.temporal.proactive_activities import ProactiveActivities
from careflow.temporal.trend_activities import Counter, TrendActivities
from workflows.inquiry import InquiryWorkflow
from workflows.proactive import ProactivePostWorkflow
from workflows.qa import QaReviewWorkflow
from workflows.trend_watch import TrendWatchWorkflow

log = logging.getLogger("careflow.temporal.worker")
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


def channel_adapter(settings: Settings) -> ChannelAdapter:
    """The channel adapter named by ``CAREFLOW_ADAPTER``."""
    if settings.platform.adapter == "sandbox":
        return SandboxAdapter(settings.outbox)
    if settings.platform.adapter == "platform":
        from activities.adapters.platform import PlatformAdapter  # loaded only when chosen

        return PlatformAdapter(settings.platform, settings.deliveries, settings.telemetry)
    raise ConfigurationError(
        f"CAREFLOW_ADAPTER={settings.platform.adapter!r} is not an adapter careflow has; "
        "use sandbox or platform"
    )


# Failures careflow raises on purpose: the platform refused, is rate limiting, or is down; a
# template or the rule file is wrong (retried every few seconds until an engineer fixes it).
EXPECTED_FAILURES = frozenset(
    {
        "DeliveryRejected",
        "PlatformUnavailable",
        "PlatformRateLimited",
        "TemplateRenderError",
        "EmptyMessage",
        "RuleFileInvalid",
        "RuleFileUnreadable",
    }
)


class ExpectedFailureLines(logging.Filter):
    """The SDK logs every failed activity attempt with a traceback; for the failures careflow
    raises on purpose one line per attempt says it all (what failed, and the platform's or the
    rule file's words: a broken rule file made 532 traceback lines in 90 s)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ApplicationError) and error.type in EXPECTED_FAILURES:
            first, *rest = [
                line.strip() for line in error.message.splitlines() if line.strip()
            ] or [""]
            words = f"{first} {'; '.join(rest)}" if rest else first
            record.msg = f"{record.getMessage()}: {error.type}: {words}"
            record.args = ()
            record.exc_info = None
        return True


def quiet_expected_failures() -> None:
    activity_log = logging.getLogger("temporalio.activity")
    if not any(isinstance(f, ExpectedFailureLines) for f in activity_log.filters):
        activity_log.addFilter(ExpectedFailureLines())


def build_worker(
    client: Client,
    settings: Settings,
    adapter: ChannelAdapter | None = None,
    trend_counter: Counter | None = None,
    *,
    cached_workflows: int = 1000,  # the SDK's default
) -> Worker:
    """A worker for the inquiry workflow and its activities (its expected failures logged as
    one line each). ``cached_workflows=0`` keeps none in memory (no sticky task queue), for a
    test that stops its worker mid-inquiry and starts another."""
    quiet_expected_failures()
    outbound = OutboundActivities(adapter or channel_adapter(settings))
    rules = RulesActivities(settings.rules)
    proactive = ProactiveActivities(client)
    trends = TrendActivities(client, settings.temporal.task_queue, trend_counter)
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        workflows=[InquiryWorkflow, QaReviewWorkflow, ProactivePostWorkflow, TrendWatchWorkflow],
        activities=[
            rules.load_rules,
            outbound.deliver,
            proactive.reply_open_inquiries,
            trends.count_trends,
            trends.start_proactive,
        ],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        max_cached_workflows=cached_workflows,
    )


SUPERVISORS = "supervisors"


def supervisor_notifier(
    adapter: ChannelAdapter, ruleset: Ruleset
) -> Callable[[str, str], Awaitable[None]]:
    """A notification to the rule file's ``supervisors`` target (its webhook), the way the
    workflow's notify actions go: through the channel adapter, once per key."""
    target = ruleset.rule_file.targets.get(SUPERVISORS)

    async def notify(key: str, text: str) -> None:
        outbound = Outbound(
            key=key,
            kind="notification",
            channel="careflow",
            conversation_id="",
            in_reply_to="",
            recipient=SUPERVISORS,
            target=SUPERVISORS,
            target_webhook=target.webhook if target is not None else None,
            text=text,
        )
        await adapter.deliver(outbound, text)

    return notify


def lag_watch(client: Client, settings: Settings, adapter: ChannelAdapter) -> LagWatch | None:
    """The acknowledgement-lag watch for the worker's task queue and rules (None when the rule
    file cannot be read now: the workflows will say so; the worker still runs)."""
    try:
        ruleset = load_ruleset(Path(settings.rules))
    except (RuleFileError, OSError) as error:
        log.warning("acknowledgement lag not watched: the rule file cannot be loaded: %s", error)
        return None
    return LagWatch(
        client,
        settings.temporal.task_queue,
        acknowledgement_target(ruleset),
        supervisor_notifier(adapter, ruleset),
    )


async def run_worker(
    settings: Settings, connection: Connection, client: Client | None = None
) -> None:
    """Run until SIGTERM or SIGINT, then let in-flight activities finish."""
    client = client or await connect(connection)
    adapter = channel_adapter(settings)
    worker = build_worker(client, settings, adapter)
    quiet_expected_failures()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info(
        "worker on %s (%s), namespace %s, task queue %s, rules %s, encryption %s",
        settings.temporal.address,
        connection.security,
        settings.temporal.namespace,
        settings.temporal.task_queue,
        settings.rules,
        encryption_summary(settings.encryption),
    )
    watch = lag_watch(client, settings, adapter)
    async with connection.observed.exporting(), worker:
        watching = asyncio.create_task(watch.run()) if watch is not None else None
        await stop.wait()
        log.info("stopping: waiting for in-flight activities")
        if watching is not None:
            watching.cancel()
    await adapter.aclose()  # after the last delivery: the platform client's connections
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(signum)


def main() -> None:
    """Entry point of ``python worker.py``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        connection = Connection.of(settings)  # bad keys, exporters, TLS files: one line, now
        asyncio.run(run_worker(settings, connection))
    except ConfigurationError as error:
        raise SystemExit(f"error: {error}") from None
