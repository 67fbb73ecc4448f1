"""The SLA figures: medians, p90 and shares computed as an operator would by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careflow.audit.sla import InquiryFigures, ReviewFigures, figures, sla_report, teams_of
from careflow.audit.sla_csv import sla_csv
from careflow.audit.sla_html import sla_html, time_unit


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
    assert (result.csat_asked, result.csat_responses, result.csat_mean) == (0, 0, None)


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


DAY1 = datetime(2026, 11, 30, 9, tzinfo=UTC)
DAY2 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def person(
    n: int,
    agent: str | None,
    *,
    first: int,
    resolved: int | None,
    rating: float | None = None,
    asked: bool = False,
    breached: tuple[str, ...] = (),
    reopens: int = 0,
    day: datetime = DAY1,
) -> InquiryFigures:
    return InquiryFigures(
        workflow_id=f"inquiry-{n}",
        channel="x",
        category="billing",
        queue="general",
        closed=resolved is not None,
        first_response_seconds=first,
        resolution_seconds=resolved,
        missed_internal=breached,
        breached=breached,
        reopens=reopens,
        agent=agent,
        started_at=day,
        rating=rating,
        rating_asked=asked,
    )


# Ana is in two teams, Ben in one, Cy in none; one inquiry nobody took.
TEAMS = teams_of({"logistics": ["Ana"], "returns": ["Ana", "Ben"]})
KNOWN = [
    person(1, "Ana", first=600, resolved=3600, rating=5, asked=True),
    person(2, "Ana", first=1200, resolved=9360, rating=2, asked=True, reopens=1),
    person(3, "Ana", first=1800, resolved=None, breached=("acknowledge",), day=DAY2),
    person(4, "Ben", first=300, resolved=7200, rating=4, asked=True),
    person(5, "Ben", first=900, resolved=None, asked=True, day=DAY2),
    person(6, "Cy", first=60, resolved=120),
    person(7, None, first=5000, resolved=None, breached=("acknowledge",), day=DAY2),
]


def test_known_inquiries_give_known_figures_per_agent_and_team() -> None:
    report = sla_report(KNOWN, None, ("agent", "team"), TEAMS)
    agents, teams = report.by["agent"], report.by["team"]
    assert set(agents) == {"Ana", "Ben", "Cy", "(unassigned)"}
    ana = agents["Ana"]
    assert (ana.inquiries, ana.resolved, ana.open) == (3, 2, 1)
    assert ana.first_response_median_seconds == 1200
    assert ana.resolution_median_seconds == (3600 + 9360) / 2
    assert ana.within_published_share == 2 / 3 and ana.breaches == 1
    assert (ana.reopens, ana.reopen_rate) == (1, 1 / 3)
    assert (ana.csat_asked, ana.csat_responses, ana.csat_mean) == (2, 2, 3.5)
    assert ana.csat_satisfied_share == 1 / 2
    ben = agents["Ben"]
    assert (ben.inquiries, ben.resolved, ben.csat_asked, ben.csat_responses) == (2, 1, 2, 1)
    assert ben.csat_satisfied_share == 1.0
    # An agent in two teams counts in both; an agent in none, and nobody, count as no team.
    assert set(teams) == {"logistics", "returns", "(no team)"}
    assert teams["logistics"].inquiries == 3
    assert teams["returns"].inquiries == 5
    assert teams["returns"].csat_mean == (5 + 2 + 4) / 3
    assert teams["(no team)"].inquiries == 2
    assert teams["(no team)"].csat_mean is None
    assert report.total.inquiries == 7
    assert list(report.days) == ["2026-11-30", "2026-12-01"]
    assert report.days["2026-12-01"].inquiries == 3
    assert report.days["2026-12-01"].within_published_share == 1 / 3


def test_the_same_figures_in_json_csv_and_html() -> None:
    report = sla_report(KNOWN, None, ("agent", "team"), TEAMS)
    data = json.loads(report.model_dump_json())
    assert data["by"]["agent"]["Ana"]["resolved"] == 2
    assert data["by"]["team"]["returns"]["csat_responses"] == 3

    rows = list(csv.DictReader(io.StringIO(sla_csv(report))))
    by_group = {(row["dimension"], row["group"]): row for row in rows}
    assert by_group[("all", "all inquiries")]["inquiries"] == "7"
    ana = by_group[("agent", "Ana")]
    assert ana["inquiries"] == "3" and ana["resolved"] == "2"
    assert float(ana["first_response_median_seconds"]) == 1200
    assert float(ana["resolution_median_seconds"]) == 6480
    assert float(ana["within_published_share"]) == pytest.approx(2 / 3, abs=1e-4)
    assert float(ana["csat_mean"]) == 3.5 and ana["csat_responses"] == "2"
    assert by_group[("team", "logistics")]["inquiries"] == "3"
    assert by_group[("agent", "Cy")]["csat_mean"] == ""  # nothing measured: an empty cell
    assert by_group[("day", "2026-12-01")]["inquiries"] == "3"

    page = sla_html(report)
    assert "By agent" in page and "By team" in page and "Per day" in page
    assert "<th>handled</th><th>resolved</th>" in page
    # Durations as people read them: Ana's resolution p50 is 6480 s.
    assert "1h 48m" in page
    assert "50% · 3.5 · 2/2" in page  # Ana's CSAT: satisfied share, mean, rated/asked
    assert "1h 23m" in page  # the unassigned inquiry's 5000 s


def test_a_name_cannot_be_a_spreadsheet_formula() -> None:
    odd = person(1, "=HYPERLINK(1)", first=60, resolved=None)
    rows = list(csv.reader(io.StringIO(sla_csv(sla_report([odd], None, ("agent",))))))
    assert rows[2][:2] == ["agent", "'=HYPERLINK(1)"]


@pytest.mark.parametrize(
    ("largest", "unit"),
    [(0, "seconds"), (90, "seconds"), (150, "minutes"), (7200, "hours"), (3 * 86400, "days")],
)
def test_a_time_axis_takes_the_unit_that_fits(largest: float, unit: str) -> None:
    assert time_unit(largest)[0] == unit


def test_charts_read_in_hours_when_times_are_hours() -> None:
    slow = [person(1, "Ana", first=3 * 3600, resolved=20 * 3600)]
    page = sla_html(sla_report(slow, None, ("agent",)))
    assert "first response (hours)" in page and "resolution (hours)" in page
    assert "first response (minutes)" not in page


def review(agent: str | None, **scores: int) -> ReviewFigures:
    return ReviewFigures(
        channel="x", category="billing", queue="general", agent=agent, scores=scores
    )


def test_qa_averages_per_criterion_per_agent_and_team() -> None:
    reviews = [
        review("Ana", empathy=5, accuracy=4),
        review("Ana", empathy=3, accuracy=4),
        review("Ben", empathy=2, accuracy=5),
    ]
    report = sla_report(KNOWN, None, ("agent", "team"), TEAMS, reviews)
    ana = report.by["agent"]["Ana"]
    assert (ana.qa_reviews, ana.qa_average) == (2, {"accuracy": 4.0, "empathy": 4.0})
    assert report.by["agent"]["Cy"].qa_reviews == 0
    assert report.by["team"]["returns"].qa_average == {"accuracy": 13 / 3, "empathy": 10 / 3}
    assert report.total.qa_reviews == 3

    rows = {(r["dimension"], r["group"]): r for r in csv.DictReader(io.StringIO(sla_csv(report)))}
    assert float(rows[("agent", "Ben")]["qa_empathy"]) == 2.0
    assert float(rows[("team", "logistics")]["qa_accuracy"]) == 4.0
    assert rows[("agent", "Cy")]["qa_empathy"] == ""
    assert "accuracy 4.0 · empathy 4.0 (2 reviews)" in sla_html(report)
