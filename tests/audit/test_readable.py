"""Reports show durations and times as people read them: ``2h 36m``, never ``9364.6 min``;
times to the second, never with microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from rich.console import Console

from careflow.audit.readable import duration, moment
from careflow.audit.report import build_report
from careflow.audit.report_html import report_html
from careflow.audit.sla import InquiryFigures, format_seconds, sla_report
from careflow.audit.sla_html import sla_html
from careflow.cli.audit import report_view
from careflow.cli.report import sla_view
from tests.harness import example
from workflows.state import ClockView, InquiryStatus, Message, TimelineEntry

MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d")
POSTED = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)


def test_durations_read_in_the_two_largest_units() -> None:
    assert duration(None) == "-"
    assert duration(0) == "0s"
    assert duration(12.4) == "12s"
    assert duration(125) == "2m 5s"
    assert duration(2 * 3600 + 36 * 60 + 4.6) == "2h 36m"
    assert duration(7200) == "2h"
    assert duration(9364.6 * 60) == "6d 12h"
    assert format_seconds(9364.6) == "2h 36m"


def test_times_are_to_the_second_with_their_zone() -> None:
    assert moment(POSTED) == "2026-11-30 08:00:00 UTC"
    assert moment(POSTED.astimezone(timezone(timedelta(hours=2)))) == "2026-11-30 10:00:00 +02:00"
    assert moment(None) == "-"


def _status() -> InquiryStatus:
    inquiry = example("warranty", POSTED)
    out = POSTED + timedelta(minutes=3, seconds=7, microseconds=5)
    resolved = POSTED + timedelta(hours=2, minutes=36, microseconds=77)
    clock = ClockView(
        started_at=POSTED,
        internal_due=POSTED + timedelta(minutes=30, microseconds=1),
        published_due=POSTED + timedelta(hours=1, microseconds=1),
        warning_due=None,
        internal="met",
        published="met",
        met_at=out,
        stopped_at=None,
        paused=False,
        internal_passed_at=None,
        published_passed_at=None,
    )
    return InquiryStatus(
        id="inquiry-instagram-1860000000000000005",
        inquiry=inquiry,
        step="closed",
        category="warranty",
        priority="normal",
        queue="product",
        privatize="offer",
        windows="standard",
        tags=[],
        agent="Ana",
        ruleset={"name": "default", "digest": "ab" * 32, "file": "rules/default.yaml"},
        fired=[],
        why=[],
        clocks={"acknowledge": clock},
        next_due=None,
        breached=[],
        messages=[
            Message(
                id="m1",
                direction="out",
                kind="reply",
                by="Ana",
                text="On it",
                private=False,
                at=out,
            )
        ],
        timeline=[TimelineEntry(at=resolved, event="resolved", detail="resolved by Ana")],
        reopens=0,
        waiting_on_customer=False,
        resolution_code="replaced",
        resolution_note=None,
        escalations=[],
        duplicate_deliveries=0,
        close_reason="customer confirmed the fix",
        closed_at=resolved,
        runs=1,
    )


def test_the_inquiry_report_in_text_and_html_reads_like_a_person_wrote_it() -> None:
    report = build_report(_status(), "closed")
    console = Console(width=200, record=True)
    console.print(report_view(report))
    text = console.export_text()
    assert "first response 3m 7s" in text and "resolved after 2h 36m" in text
    assert "2026-11-30 08:00:00 UTC" in text
    assert " min" not in text and not MICROSECONDS.search(text)
    page = report_html(report)
    assert "first response after 3m 7s" in page and "resolved after 2h 36m" in page
    assert " min" not in page and not MICROSECONDS.search(page)


def test_the_sla_report_shows_hours_and_minutes() -> None:
    figures = InquiryFigures(
        workflow_id="inquiry-x-1",
        channel="x",
        category="billing",
        queue="billing",
        closed=True,
        first_response_seconds=9364,
        resolution_seconds=20000,
        missed_internal=(),
        breached=(),
        reopens=0,
    )
    report = sla_report([figures], POSTED)
    console = Console(width=200, record=True)
    console.print(sla_view(report))
    text = console.export_text()
    assert "2h 36m" in text and "9364" not in text and "156.1 min" not in text
    assert "since 2026-11-30 08:00:00 UTC" in text
    page = sla_html(report)
    assert "2h 36m" in page and not MICROSECONDS.search(page)
