"""The SLA figures: medians, p90 and shares computed as an operator would by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from careflow.audit.sla import InquiryFigures, figures, sla_report
from careflow.audit.sla_html import sla_html


def inquiry(
    n: int,
    *,
    channel: str = "x",
    first: int | None = None,
    missed: tuple[str, ...] = (),
    breached: tuple[str, ...] = (),
    reopens: int = 0,
    closed: bool = True,
) -> InquiryFigures:
    return InquiryFigures(
        workflow_id=f"inquiry-{n}",
        channel=channel,
        category="billing" if n % 2 else "returns",
        queue="general",
        closed=closed,
        first_response_seconds=first,
        resolution_seconds=None,
        missed_internal=missed,
        breached=breached,
        reopens=reopens,
    )


def test_figures_of_a_group() -> None:
    group = [
        inquiry(1, first=60),
        inquiry(2, first=120, missed=("acknowledge",)),
        inquiry(3, first=180, missed=("acknowledge",), breached=("acknowledge",), reopens=1),
        inquiry(4, first=600),
        inquiry(5, closed=False),  # not answered yet: not in the response times
    ]
    result = figures(group)
    assert (result.inquiries, result.open, result.answered) == (5, 1, 4)
    assert result.first_response_median_seconds == 150
    # Linear interpolation: rank 0.9 * 3 = 2.7, between 180 and 600.
    assert result.first_response_p90_seconds == pytest.approx(180 + 0.7 * (600 - 180))
    assert result.within_internal_share == 3 / 5
    assert result.within_published_share == 4 / 5
    assert result.breaches == 1
    assert result.reopen_rate == 1 / 5
    assert result.csat is None


def test_groups_by_channel_category_and_queue() -> None:
    report = sla_report([inquiry(1, channel="x", first=30), inquiry(2, channel="facebook")], None)
    assert set(report.by) == {"channel", "category", "queue"}
    assert report.by["channel"]["x"].answered == 1
    assert report.by["channel"]["facebook"].answered == 0
    assert report.by["channel"]["facebook"].first_response_median_seconds is None
    assert report.by["queue"]["general"].inquiries == 2
    assert figures([]).within_internal_share is None


def test_the_html_page_has_charts_and_escapes_names(tmp_path: Path) -> None:
    odd = inquiry(1, first=30)
    odd = InquiryFigures(**{**odd.__dict__, "queue": "<b>vip</b>"})
    page = sla_html(sla_report([odd, inquiry(2, first=90, breached=("resolve",))], None))
    assert page.count("<svg") == 3  # one chart per dimension, inline: it opens offline
    assert not any(
        tag in page for tag in ("<script", "<link", " src=", "url(http")
    )  # nothing fetched
    assert "<b>vip</b>" not in page and "&lt;b&gt;vip&lt;/b&gt;" in page
    assert "50%" in page  # one of two inquiries within the published window
