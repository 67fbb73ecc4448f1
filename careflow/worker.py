"""The worker: the inquiry workflow and its activities on one task queue.

``python worker.py`` and ``careflow worker`` run it as a service: configured by the environment
(``careflow.config``), stopped gracefully by SIGTERM or SIGINT so in-flight activities finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from datetime import timedelta

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.outbound import ChannelAdapter, OutboundActivities
from activities.rules import RulesActivities
from activities.sandbox import SandboxAdapter
from careflow.codec import KeyConfigError, codec_from_settings, load_keys
from careflow.config import Settings
from careflow.telemetry import TelemetryConfigError, telemetry
from workflows.inquiry import InquiryWorkflow

log = logging.getLogger("careflow.worker")
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


class ConfigurationError(ValueError):
    """A setting that cannot work, said in one sentence."""


def channel_adapter(settings: Settings) -> ChannelAdapter:
    """The channel adapter named by ``CAREFLOW_ADAPTER``."""
    if settings.adapter == "sandbox":
        return SandboxAdapter(settings.outbox)
    if settings.adapter == "platform":
        from activities.platform import PlatformAdapter  # loaded only when chosen

        return PlatformAdapter(settings)
    raise ConfigurationError(
        f"CAREFLOW_ADAPTER={settings.adapter!r} is not an adapter careflow has; "
        "use sandbox or platform"
    )


def data_converter(settings: Settings) -> DataConverter:
    """careflow's data converter: the worker, the CLI, audit export and replay must agree.

    With encryption keys configured every payload is encrypted (``careflow.codec``), and so are
    failure messages, which may quote customer text.
    """
    try:
        codec = codec_from_settings(settings)
    except KeyConfigError as error:
        raise ConfigurationError(str(error)) from None
    if codec is None:
        return pydantic_data_converter
    return replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def encryption_summary(settings: Settings) -> str:
    """What the logs and the banner say about encryption: key ids only, never keys."""
    try:
        ids = [key.id for key in load_keys(settings)]
    except KeyConfigError as error:
        return f"misconfigured: {error}"
    if not ids:
        return "off (payloads are stored in clear; see docs/encryption.md)"
    older = f", older keys {', '.join(ids[1:])} decrypt only" if ids[1:] else ""
    return f"on, key {ids[0]} encrypts{older}"


async def connect(settings: Settings) -> Client:
    """A client with careflow's data converter; unusable keys are a ``CareflowError``, which
    every command prints as one line."""
    try:
        converter = data_converter(settings)
        observed = telemetry(settings)
    except (ConfigurationError, TelemetryConfigError) as error:
        from careflow.client import CareflowError  # careflow.client imports this module

        raise CareflowError(str(error)) from None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=converter,
        plugins=observed.plugins,  # workers built on this client get them too
        runtime=observed.runtime,
    )


# Failures careflow raises on purpose: the platform refused, is rate limiting, or is down.
EXPECTED_FAILURES = frozenset(
    {"DeliveryRejected", "PlatformUnavailable", "PlatformRateLimited", "TemplateRenderError"}
)


class ExpectedFailureLines(logging.Filter):
    """The SDK logs every failed activity attempt with a traceback; for the failures careflow
    raises on purpose one line says it all (what failed, and the platform's words)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ApplicationError) and error.type in EXPECTED_FAILURES:
            record.msg = f"{record.getMessage()}: {error.type}: {error.message}"
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
) -> Worker:
    """A worker for the inquiry workflow and its activities."""
    outbound = OutboundActivities(adapter or channel_adapter(settings))
    rules = RulesActivities(settings.rules)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[InquiryWorkflow],
        activities=[rules.load_rules, outbound.deliver],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    """Run until SIGTERM or SIGINT, then let in-flight activities finish."""
    client = client or await connect(settings)
    adapter = channel_adapter(settings)
    worker = build_worker(client, settings, adapter)
    quiet_expected_failures()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info(
        "worker on %s, namespace %s, task queue %s, rules %s, encryption %s",
        settings.temporal_address,
        settings.namespace,
        settings.task_queue,
        settings.rules,
        encryption_summary(settings),
    )
    async with telemetry(settings).exporting(), worker:
        await stop.wait()
        log.info("stopping: waiting for in-flight activities")
    await adapter.aclose()  # after the last delivery: the platform client's connections
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(signum)


def main() -> None:
    """Entry point of ``python worker.py``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    try:
        data_converter(settings)  # unusable keys: one line now, not a traceback from connect
        telemetry(settings)
        asyncio.run(run_worker(settings))
    except (ConfigurationError, TelemetryConfigError) as error:
        raise SystemExit(f"error: {error}") from None
