"""The inquiry workflow's metrics, through ``workflow.metric_meter()``: replay-safe (nothing is
recorded again when a history replays) and exported with the SDK's own metrics.

Attributes stay low-cardinality (channel, category, clock names): never ids or customer text.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

PREFIX = "careflow_"


def inquiry_started(channel: str, category: str, priority: str) -> None:
    workflow.metric_meter().create_counter(
        PREFIX + "inquiries_started", "Inquiries that passed triage"
    ).add(1, {"channel": channel, "category": category, "priority": priority})


def inquiry_dropped(channel: str, reason: str) -> None:
    workflow.metric_meter().create_counter(
        PREFIX + "inquiries_dropped", "Inquiries the received rules dropped in the workflow"
    ).add(1, {"channel": channel, "reason": reason})


def first_response(channel: str, after: timedelta, by_human: bool) -> None:
    workflow.metric_meter().create_histogram_timedelta(
        PREFIX + "first_response", "Time from the post to the first reply", "duration"
    ).record(after, {"channel": channel, "by": "agent" if by_human else "rule"})


def deadline_passed(clock: str, event: str) -> None:
    """A clock's warning, internal target or published window passed unmet."""
    workflow.metric_meter().create_counter(
        PREFIX + "clock_deadlines_passed", "Clock deadlines passed without a reply"
    ).add(1, {"clock": clock, "deadline": event.removeprefix("window.")})


def clock_closed(clock: str, internal: str, published: str) -> None:
    """A clock's verdict when the inquiry closes: met, missed, stopped."""
    workflow.metric_meter().create_counter(
        PREFIX + "clock_verdicts", "Clock verdicts at close"
    ).add(1, {"clock": clock, "internal": internal, "published": published})


def escalated(to: str) -> None:
    workflow.metric_meter().create_counter(PREFIX + "escalations", "Escalations").add(1, {"to": to})
