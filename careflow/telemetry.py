"""Traces and metrics with OpenTelemetry, chosen by the standard ``OTEL_*`` variables.

Traces go through temporalio's ``OpenTelemetryPlugin`` (its README recommends it over the legacy
``TracingInterceptor``) with its Temporal spans on, and through OpenTelemetry's own ASGI and httpx
instrumentation at the two ends, so one trace follows a delivery: the intake's server span for the
webhook request (``traced_app``), ``SignalWithStartWorkflow`` (the plugin carries the context in
the Temporal headers), ``RunWorkflow``, ``StartActivity``/``RunActivity`` for each activity, and a
client span for each HTTP call the platform adapter makes (``trace_http``). What spans may say is
kept from secrets: the intake's query strings (Meta's verify token) are redacted, an outbound
URL is recorded whole only for X API v2 and Graph API calls (webhook URLs, the notification,
target and chat ones, are secrets: their spans show scheme and host only), and headers that
carry tokens or signatures are redacted if an ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*``
variable asks for headers. With traces off, none of this is installed.

Metrics are the SDK's own worker metrics plus the workflow's (``workflows/metrics.py``), drained
from the Temporal runtime into an OpenTelemetry ``MeterProvider``. Exporters: ``none``
(default), ``console``, ``otlp`` (``OTEL_EXPORTER_OTLP_*`` say where). The tracer and meter
providers are process-wide, so this is built once per process.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import opentelemetry.trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import ProxyTracerProvider, Span
from starlette.applications import Starlette
from temporalio.contrib.opentelemetry import (
    MetricsExporter,
    OpenTelemetryPlugin,
    create_tracer_provider,
)
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

from careflow.settings import PlatformSettings, TelemetrySettings

EXPORTERS = ("none", "console", "otlp")
METRIC_BUFFER_SIZE = 10_000
REDACTED = "[REDACTED]"
# Header names whose values never go in a span, should headers be captured at all.
SECRET_HEADERS = ("authorization", "cookie", "signature", "token", "secret")
_SECRET_HEADER = re.compile("|".join(SECRET_HEADERS), re.IGNORECASE)
URL_ATTRIBUTES = ("http.url", "url.full")  # the old and the new HTTP semantic conventions


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


def tracing(settings: TelemetrySettings) -> bool:
    """Whether ``OTEL_TRACES_EXPORTER`` turns traces on."""
    return settings.traces_exporter in EXPORTERS and settings.traces_exporter != "none"


def temporal_plugin() -> OpenTelemetryPlugin:
    """The plugin for clients, workers and the Replayer. Its Temporal spans (signal-with-start,
    workflow, activity) are what the trace is made of: without them it only propagates."""
    return OpenTelemetryPlugin(add_temporal_spans=True)


def _recorded(span: Span) -> Mapping[str, Any]:
    """The attributes ``span`` holds so far (an SDK span shows them; other spans show none)."""
    attributes = getattr(span, "attributes", None)
    return attributes if isinstance(attributes, Mapping) else {}


def _redact_secret_headers(span: Span) -> None:
    for key in _recorded(span):
        if key.startswith(("http.request.header.", "http.response.header.")) and (
            _SECRET_HEADER.search(key.rsplit(".", 1)[-1])
        ):
            span.set_attribute(key, [REDACTED])


def _hide_query(span: Span, scope: Mapping[str, Any]) -> None:
    """The intake's server span without the query string (Meta's check sends its verify token
    in it)."""
    if not scope.get("query_string") or not span.is_recording():
        return
    recorded = _recorded(span)
    for key in URL_ATTRIBUTES:
        value = recorded.get(key)
        if isinstance(value, str):
            span.set_attribute(key, value.split("?", 1)[0] + "?" + REDACTED)
    if "url.query" in recorded:
        span.set_attribute("url.query", REDACTED)


def traced_app(app: Starlette, settings: TelemetrySettings) -> Starlette:
    """``app`` with a server span per request when traces are on. The request's span is the
    current context while the route runs, so the Temporal client's plugin makes it the parent of
    the signal-with-start and carries it into the workflow."""
    if not tracing(settings):
        return app
    if isinstance(opentelemetry.trace.get_tracer_provider(), ProxyTracerProvider):
        telemetry(settings)  # the provider exists for the first request, not from its connect on
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    app.add_middleware(
        OpenTelemetryMiddleware,
        server_request_hook=_hide_query,
        http_capture_headers_sanitize_fields=list(SECRET_HEADERS),
        exclude_spans=["receive", "send"],  # one span per request, not one per ASGI message
    )
    return app


def _public_url(url: str, settings: PlatformSettings) -> bool:
    """Whether ``url`` may be recorded whole: an X API v2 or Graph API call, and not a webhook
    careflow knows (notification and chat webhook URLs are secrets, and so are the rule file's
    target webhooks, which are none of these APIs)."""
    secret = [u for u in (settings.notify_webhook_url, settings.chat_url) if u]
    if any(url.startswith(u) for u in secret):
        return False
    apis = (settings.x_api_base.rstrip("/") + "/2/", settings.meta_graph_base.rstrip("/") + "/")
    return url.startswith(apis)


def trace_http(
    client: httpx.AsyncClient, platform: PlatformSettings, settings: TelemetrySettings
) -> httpx.AsyncClient:
    """``client`` with a client span per request when traces are on (only this client: nothing
    is patched process-wide). Spans keep the X and Meta URLs; any other URL, such as the
    notification webhook's, is cut to its scheme and host."""
    if not tracing(settings):
        return client
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, RequestInfo

    async def redact(span: Span, request: RequestInfo) -> None:
        if not span.is_recording():
            return
        url = str(request.url)
        if not _public_url(url, platform):
            parsed = httpx.URL(url)
            shown = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}/{REDACTED}"
            recorded = _recorded(span)
            for key in URL_ATTRIBUTES:
                if key in recorded:
                    span.set_attribute(key, shown)
            if "url.path" in recorded:
                span.set_attribute("url.path", REDACTED)
            if "url.query" in recorded:
                span.set_attribute("url.query", REDACTED)
        _redact_secret_headers(span)

    HTTPXClientInstrumentor.instrument_client(client, request_hook=redact)
    return client


def telemetry(settings: TelemetrySettings) -> Telemetry:
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
        built.plugins.append(temporal_plugin())
    if settings.metrics_exporter != "none":
        buffer = MetricBuffer(METRIC_BUFFER_SIZE)
        built.runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
        reader = PeriodicExportingMetricReader(_metric_exporter(settings.metrics_exporter))
        built.metrics = MetricsExporter(
            buffer, MeterProvider(resource=resource, metric_readers=[reader])
        )
    _built[key] = built
    return built


INTAKE_PROBLEMS = "careflow_intake_problems"


def count_intake_problems(settings: TelemetrySettings, platform: str, count: int) -> None:
    """``careflow_intake_problems`` (by platform): events of signed deliveries the intake could
    not read and recorded as problems instead of refusing their delivery. It goes through the
    Temporal runtime's meter, exported with the SDK's metrics (``OTEL_METRICS_EXPORTER``)."""
    if count <= 0:
        return
    try:
        runtime = telemetry(settings).runtime
    except TelemetryConfigError:  # the worker says so at start; the intake keeps taking posts
        runtime = None
    meter = (runtime or Runtime.default()).metric_meter
    counter = meter.create_counter(
        INTAKE_PROBLEMS, "Events of signed deliveries recorded as problems", "1"
    )
    counter.add(count, {"platform": platform})
