"""Traces and metrics: one trace from the client through the workflow to its activities, and
the workflow's own counters, collected in memory."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import opentelemetry.trace
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.contrib.opentelemetry import OpenTelemetryPlugin, create_tracer_provider
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from careflow.settings import Settings, TelemetrySettings, TemporalSettings
from careflow.telemetry import TelemetryConfigError, telemetry
from careflow.temporal.intake import first_message
from careflow.temporal.worker import build_worker
from tests.harness import TEST_SERVER, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import EscalateRequest, InquiryInput, ResolveRequest

SPANS = InMemorySpanExporter()
_provider = create_tracer_provider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
opentelemetry.trace.set_tracer_provider(_provider)  # process-wide, as in a worker


def test_one_trace_from_start_to_activities_and_the_workflow_counts(tmp_path: Path) -> None:
    buffer = MetricBuffer(10_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))

    async def scenario() -> None:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER),
            data_converter=pydantic_data_converter,
            plugins=[OpenTelemetryPlugin(add_temporal_spans=True)],
            runtime=runtime,
        )
        settings = Settings(
            rules=str(round_the_clock_pack(tmp_path)),
            home=tmp_path,
            temporal=TemporalSettings(task_queue="otel"),
        )
        async with env, build_worker(env.client, settings):
            inquiry = example("question", await env.get_current_time())
            handle = await env.client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=inquiry, search_attributes=False),
                id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                task_queue=settings.temporal.task_queue,
                start_signal="customer_message",
                start_signal_args=[first_message(inquiry)],
            )
            await env.sleep(timedelta(minutes=31))  # the safety-net ack goes out
            await handle.execute_update(
                InquiryWorkflow.escalate, EscalateRequest(agent="Ana", to="supervisor")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await handle.result()

    SPANS.clear()
    asyncio.run(scenario())

    spans = SPANS.get_finished_spans()
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)

    def parent_of(span: ReadableSpan) -> str:
        assert span.parent is not None, span.name
        [parent] = [s for s in spans if s.context.span_id == span.parent.span_id]
        return parent.name

    [start] = by_name["SignalWithStartWorkflow:Inquiry"]
    [run] = by_name["RunWorkflow:Inquiry"]
    assert start.parent is None and parent_of(run) == "SignalWithStartWorkflow:Inquiry"
    [load] = by_name["RunActivity:load_rules"]
    assert parent_of(load) == "StartActivity:load_rules"
    assert parent_of(by_name["StartActivity:load_rules"][0]) == "RunWorkflow:Inquiry"
    deliveries = by_name["RunActivity:deliver"]
    assert len(deliveries) >= 3  # safety-net ack, escalation, follow-up
    trace = start.context.trace_id
    assert {s.context.trace_id for s in (run, load, *deliveries)} <= {trace} | {
        s.context.trace_id for s in by_name["StartWorkflowUpdate:escalate"]
    }
    assert sum(1 for s in deliveries if s.context.trace_id == trace) >= 2

    counted: dict[str, list[dict[str, object]]] = {}
    for update in buffer.retrieve_updates():
        if update.metric.name.startswith("careflow_"):
            counted.setdefault(update.metric.name, []).append(dict(update.attributes))
    assert [a["channel"] for a in counted["careflow_inquiries_started"]] == ["x"]
    passed = {(a["clock"], a["deadline"]) for a in counted["careflow_clock_deadlines_passed"]}
    assert ("acknowledge", "internal") in passed
    assert [a["by"] for a in counted["careflow_first_response"]] == ["rule"]
    assert [a["to"] for a in counted["careflow_escalations"]] == ["supervisor"]
    verdicts = {
        (a["clock"], a["internal"], a["published"]) for a in counted["careflow_clock_verdicts"]
    }
    assert ("acknowledge", "missed", "met") in verdicts
    for attributes in (a for values in counted.values() for a in values):
        assert not any("@" in str(v) or "hikerjules" in str(v) for v in attributes.values())


def test_unknown_exporter_is_a_clear_error() -> None:
    with pytest.raises(TelemetryConfigError, match="OTEL_TRACES_EXPORTER='jaeger'"):
        telemetry(TelemetrySettings(traces_exporter="jaeger"))
    assert telemetry(TelemetrySettings()).plugins == []  # none by default: no cost
