"""Traces and metrics with OpenTelemetry, chosen by the standard ``OTEL_*`` variables.

Traces go through temporalio's ``OpenTelemetryPlugin`` (its README recommends it over the legacy
``TracingInterceptor``): one trace from the client call that starts an inquiry through the
workflow to each activity. Metrics are the SDK's own worker metrics plus the workflow's
(``workflows/metrics.py``), drained from the Temporal runtime into an OpenTelemetry
``MeterProvider``. Exporters: ``none`` (default), ``console``, ``otlp`` (``OTEL_EXPORTER_OTLP_*``
say where). The tracer and meter providers are process-wide, so this is built once per process.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import opentelemetry.trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.contrib.opentelemetry import (
    MetricsExporter,
    OpenTelemetryPlugin,
    create_tracer_provider,
)
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

from careflow.config import Settings

EXPORTERS = ("none", "console", "otlp")
METRIC_BUFFER_SIZE = 10_000


class TelemetryConfigError(ValueError):
    """An ``OTEL_*`` setting careflow cannot use, in one line."""


@dataclass
class Telemetry:
    """What clients, workers and the Replayer need: plugins, a runtime, a metrics pump."""

    plugins: list[Any] = field(default_factory=list)
    runtime: Runtime | None = None
    metrics: MetricsExporter | None = None

    def exporting(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Drain the SDK's metrics into the exporter for as long as the worker runs."""
        return self.metrics if self.metrics is not None else contextlib.nullcontext()


_built: dict[tuple[str, str, str], Telemetry] = {}


def _span_exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _metric_exporter(name: str) -> MetricExporter:
    if name == "console":
        return ConsoleMetricExporter()
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter()


def telemetry(settings: Settings) -> Telemetry:
    """The process's telemetry for ``settings`` (built on first use)."""
    key = (settings.traces_exporter, settings.metrics_exporter, settings.service_name)
    if key in _built:
        return _built[key]
    for variable, value in (
        ("OTEL_TRACES_EXPORTER", settings.traces_exporter),
        ("OTEL_METRICS_EXPORTER", settings.metrics_exporter),
    ):
        if value not in EXPORTERS:
            raise TelemetryConfigError(
                f"{variable}={value!r} is not an exporter careflow has; use {', '.join(EXPORTERS)}"
            )
    resource = Resource.create({SERVICE_NAME: settings.service_name})
    built = Telemetry()
    if settings.traces_exporter != "none":
        provider = create_tracer_provider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(_span_exporter(settings.traces_exporter)))
        opentelemetry.trace.set_tracer_provider(provider)
        built.plugins.append(OpenTelemetryPlugin())
    if settings.metrics_exporter != "none":
        buffer = MetricBuffer(METRIC_BUFFER_SIZE)
        built.runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
        reader = PeriodicExportingMetricReader(_metric_exporter(settings.metrics_exporter))
        built.metrics = MetricsExporter(
            buffer, MeterProvider(resource=resource, metric_readers=[reader])
        )
    _built[key] = built
    return built
