"""One trace from a signed webhook to the platform's HTTP call, collected in memory.

The intake app (with its server span per request) takes a high-reach post in on the generic
webhook; a worker on the time-skipping server runs the inquiry with the platform adapter against
the fake platform: the supervisors' notification goes to the notify webhook at once and the
safety-net acknowledgement is posted on X ten minutes later. Every span from the request to both
HTTP calls shares the request's trace, and no span says the token or the webhook's URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import opentelemetry.trace
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider, create_tracer_provider
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.adapters.platform import PlatformAdapter
from careflow.devtools.fake_platform import fake_platform_app
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.http.webhooks import GENERIC_SIGNATURE
from careflow.settings import (
    PlatformSettings,
    Settings,
    TelemetrySettings,
    TemporalSettings,
    WebhookSecrets,
)
from careflow.telemetry import temporal_plugin
from careflow.temporal.worker import build_worker
from tests.harness import TEST_SERVER, example, round_the_clock_pack
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ResolveRequest

TOKEN = "e2e-bearer-token-0123456789"
HOOK_PATH = "/hooks/T0E2E/B0E2E/e2e-webhook-path-secret"
HOOK_SECRET = "e2e-hmac-secret-0123456789"
INTAKE_SECRET = "e2e-intake-secret-0123456789"
VERIFY_TOKEN = "e2e-meta-verify-token-0123456789"
SPANS = InMemorySpanExporter()
_collecting: list[bool] = []


def collect_spans() -> None:
    """Add the in-memory exporter to the process's tracer provider (tests/telemetry/test_telemetry.py sets
    one when it is imported; a process has one), or set one if there is none yet."""
    if _collecting:
        return
    provider = opentelemetry.trace.get_tracer_provider()
    if not isinstance(provider, ReplaySafeTracerProvider):
        provider = create_tracer_provider()
        opentelemetry.trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    _collecting.append(True)


@pytest.fixture
def platform() -> Iterator[str]:
    """The fake X/Meta (and webhook receiver) on a free port."""
    server = ThreadedServer(fake_platform_app((TOKEN,)), free_port(), "fake", "critical").start()
    try:
        yield server.url
    finally:
        server.stop()


async def with_search_attributes(client: Client) -> None:
    """The intake starts inquiries with careflow's search attributes: the time-skipping server
    takes them once added, as the dev server does from its command line."""
    types = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in search.ALL_KEYS
    }
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=client.namespace, search_attributes=types)
    )


def posts(url: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/_fake/posts")
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()
    return found


def test_one_trace_from_the_webhook_request_to_the_platform_call(
    platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collect_spans()
    monkeypatch.setenv("SUPERVISORS_WEBHOOK_URL", platform + HOOK_PATH)  # the pack's target
    for captured in ("CLIENT_REQUEST", "SERVER_REQUEST"):  # every header, were one to ask
        monkeypatch.setenv(f"OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_{captured}", ".*")
    pack = round_the_clock_pack(tmp_path)
    settings = Settings(
        rules=str(pack),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="trace-e2e"),
        telemetry=TelemetrySettings(traces_exporter="otlp"),
        platform=PlatformSettings(
            adapter="platform",
            x_api_base=platform,
            x_bearer_token=TOKEN,
            meta_graph_base=f"{platform}/v21.0",
            meta_page_token=TOKEN,
            notify_webhook_url=platform + HOOK_PATH,
            notify_webhook_secret=HOOK_SECRET,
        ),
        webhooks=WebhookSecrets(generic=INTAKE_SECRET, meta_verify_token=VERIFY_TOKEN),
    )
    adapter = PlatformAdapter(settings.platform, settings.deliveries, settings.telemetry)

    async def scenario() -> None:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER),
            data_converter=pydantic_data_converter,
            plugins=[temporal_plugin()],  # what careflow.temporal.worker.connect gives clients
        )

        async def client_factory() -> Client:
            return env.client

        app = create_app(settings, client_factory, load_ruleset(pack))
        async with env, build_worker(env.client, settings, adapter):
            await with_search_attributes(env.client)
            inquiry = example("high-reach", await env.get_current_time())
            body = inquiry.model_dump_json().encode()
            signature = hmac.new(INTAKE_SECRET.encode(), body, hashlib.sha256).hexdigest()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
                check = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}
                verified = await http.get("/webhooks/meta", params={**check, "hub.challenge": "c"})
                assert verified.text == "c"  # its span must not keep the token from the query
                answer = await http.post(
                    "/webhooks/generic",
                    content=body,
                    headers={GENERIC_SIGNATURE: f"sha256={signature}"},
                )
            assert answer.status_code == 200, answer.text
            assert answer.json()["started"] == [f"inquiry-x-{inquiry.conversation_id}"]
            await env.sleep(timedelta(minutes=11))  # the urgent safety-net ack goes out
            deadline = asyncio.get_running_loop().time() + 10
            while {p["kind"] for p in await asyncio.to_thread(posts, platform)} != {
                "webhook",
                "tweet",
            }:
                assert asyncio.get_running_loop().time() < deadline, "nothing was posted"
                await asyncio.sleep(0.05)
            handle = env.client.get_workflow_handle(answer.json()["started"][0])
            await handle.execute_update(  # a closed workflow ends its RunWorkflow span
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await env.sleep(timedelta(hours=97))  # the follow-up goes out and times out
            await handle.result()
        await adapter.aclose()

    SPANS.clear()
    asyncio.run(scenario())

    spans = SPANS.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return by_id[span.parent.span_id]

    def chain(span: ReadableSpan) -> list[str]:
        names = [span.name]
        while span.parent is not None:
            span = parent(span)
            names.append(span.name)
        return names[::-1]

    [request] = [s for s in spans if s.name == "POST /webhooks/generic"]
    assert request.parent is None and request.kind == opentelemetry.trace.SpanKind.SERVER

    def url(span: ReadableSpan) -> str:
        said = span.attributes or {}
        return str(said.get("http.url", said.get("url.full")))

    tweets, hook = f"{platform}/2/tweets", f"{platform}/[REDACTED]"  # a webhook's URL is secret
    calls = [s for s in spans if s.name == "POST"]  # httpx's client spans
    assert {url(s) for s in calls} == {tweets, hook}
    traced = [s for s in calls if s.context.trace_id == request.context.trace_id]
    assert {url(s) for s in traced} == {tweets, hook}  # the notification and the ack
    for call in traced:
        assert chain(call) == [
            "POST /webhooks/generic",
            "SignalWithStartWorkflow:Inquiry",
            "RunWorkflow:Inquiry",
            "StartActivity:deliver",
            "RunActivity:deliver",
            "POST",
        ]

    [check] = [s for s in spans if s.name == "GET /webhooks/meta"]
    assert check.attributes is not None
    assert check.attributes["http.url"] == "http://intake/webhooks/meta?[REDACTED]"
    secrets = (TOKEN, HOOK_SECRET, INTAKE_SECRET, VERIFY_TOKEN, HOOK_PATH, "path-secret")
    for span in spans:
        said = [span.name, *(str(v) for v in (span.attributes or {}).values())]
        said += [str(v) for event in span.events for v in (event.attributes or {}).values()]
        assert not any(secret in text for secret in secrets for text in said), span.name
