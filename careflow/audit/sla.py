"""``careflow report``: response-time figures from visibility and search attributes alone.

One list call over the inquiries started since a time; no workflow is queried, so the report
costs the same whether workers are busy or not. Inquiries that started before the SLA search
attributes existed have no first-response or resolution time and count as "not measured".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus

from careflow.audit.export import visibility_query
from careflow.audit.readable import duration
from workflows import search
from workflows.qa import REVIEW_WORKFLOW

DIMENSIONS = ("channel", "category", "queue", "agent", "team")
DEFAULT_BY = ("channel", "category", "queue")
UNASSIGNED = "(unassigned)"
NO_TEAM = "(no team)"
SATISFIED = 4.0  # on the 1-5 scale: a 4 or a 5 is a satisfied customer


@dataclass(frozen=True)
class InquiryFigures:
    """What one inquiry's search attributes say."""

    workflow_id: str
    channel: str
    category: str
    queue: str
    closed: bool
    first_response_seconds: int | None
    resolution_seconds: int | None
    missed_internal: tuple[str, ...]
    breached: tuple[str, ...]
    reopens: int
    agent: str | None = None
    started_at: datetime | None = None
    rating: float | None = None  # the customer's score, on a 1-5 scale whatever the rule file's
    rating_asked: bool = False  # the follow-up asked for a rating


@dataclass(frozen=True)
class ReviewFigures:
    """One scored quality review (its memo and search attributes): grouped like inquiries."""

    channel: str
    category: str
    queue: str
    agent: str | None
    scores: dict[str, int]


class Figures(BaseModel):
    """The figures of one group of inquiries."""

    inquiries: int
    open: int
    answered: int  # inquiries with a first response
    resolved: int  # inquiries with a resolution
    first_response_median_seconds: float | None
    first_response_p90_seconds: float | None
    resolution_median_seconds: float | None
    resolution_p90_seconds: float | None
    within_internal_share: float | None  # no clock missed its internal target
    within_published_share: float | None  # no clock breached its published window
    breaches: int
    reopens: int  # inquiries reopened at least once
    reopen_rate: float | None
    csat_asked: int  # follow-ups that asked for a rating
    csat_responses: int  # ratings received
    csat_satisfied_share: float | None  # share of ratings that are 4 or 5 (of 5)
    csat_mean: float | None  # mean rating, on a 1-5 scale
    qa_reviews: int = 0  # scored quality reviews
    qa_average: dict[str, float] = {}  # mean score per rubric criterion


class Teams(BaseModel):
    """Which teams each agent is in (the rule file's ``teams:``)."""

    of_agent: dict[str, list[str]] = {}

    def of(self, agent: str | None) -> list[str]:
        """The agent's teams; an unassigned inquiry or an agent in no team counts as no team."""
        return self.of_agent.get(agent or "", []) or [NO_TEAM]


class SlaReport(BaseModel):
    since: datetime | None
    total: Figures
    by: dict[str, dict[str, Figures]]
    days: dict[str, Figures] = {}  # per day the inquiries started (UTC), oldest first


def format_seconds(value: float | None) -> str:
    """``45s``, ``12m 30s`` or ``2h 36m``; ``-`` when nothing was measured."""
    return duration(value)


def format_share(value: float | None) -> str:
    """``85%``; ``-`` for an empty group."""
    return "-" if value is None else f"{value:.0%}"


def format_csat(f: Figures) -> str:
    """``80% · 4.2 · 5/6``: satisfied share, mean of 5, ratings / asked; ``-`` when none asked."""
    if not f.csat_asked and not f.csat_responses:
        return "-"
    mean = "-" if f.csat_mean is None else f"{f.csat_mean:.1f}"
    return f"{format_share(f.csat_satisfied_share)} · {mean} · {f.csat_responses}/{f.csat_asked}"


def format_qa(f: Figures) -> str:
    """``empathy 4.5 · accuracy 5.0 (2 reviews)``; ``-`` when nothing was reviewed."""
    if not f.qa_reviews:
        return "-"
    averages = " · ".join(f"{c} {mean:.1f}" for c, mean in f.qa_average.items())
    return f"{averages} ({f.qa_reviews} review{'s' if f.qa_reviews != 1 else ''})"


def _percentile(values: list[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)  # linear interpolation between closest ranks
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def figures(inquiries: list[InquiryFigures], reviews: list[ReviewFigures] | None = None) -> Figures:
    """Count, medians and shares for a group of inquiries, and their reviews' averages."""
    reviews = reviews or []
    by_criterion: dict[str, list[int]] = {}
    for review in reviews:
        for criterion, score in review.scores.items():
            by_criterion.setdefault(criterion, []).append(score)
    count = len(inquiries)
    responses = [
        i.first_response_seconds for i in inquiries if i.first_response_seconds is not None
    ]
    resolutions = [i.resolution_seconds for i in inquiries if i.resolution_seconds is not None]
    ratings = [i.rating for i in inquiries if i.rating is not None]

    def share(test: Any) -> float | None:
        return sum(1 for i in inquiries if test(i)) / count if count else None

    return Figures(
        inquiries=count,
        open=sum(1 for i in inquiries if not i.closed),
        answered=len(responses),
        resolved=len(resolutions),
        first_response_median_seconds=statistics.median(responses) if responses else None,
        first_response_p90_seconds=_percentile(responses, 0.9),
        resolution_median_seconds=statistics.median(resolutions) if resolutions else None,
        resolution_p90_seconds=_percentile(resolutions, 0.9),
        within_internal_share=share(lambda i: not i.missed_internal),
        within_published_share=share(lambda i: not i.breached),
        breaches=sum(1 for i in inquiries if i.breached),
        reopens=sum(1 for i in inquiries if i.reopens > 0),
        reopen_rate=share(lambda i: i.reopens > 0),
        csat_asked=sum(1 for i in inquiries if i.rating_asked or i.rating is not None),
        csat_responses=len(ratings),
        csat_satisfied_share=(
            sum(1 for r in ratings if r >= SATISFIED) / len(ratings) if ratings else None
        ),
        csat_mean=statistics.fmean(ratings) if ratings else None,
        qa_reviews=len(reviews),
        qa_average={c: statistics.fmean(s) for c, s in sorted(by_criterion.items())},
    )


def _groups_of(inquiry: InquiryFigures | ReviewFigures, dimension: str, teams: Teams) -> list[str]:
    """The groups an inquiry counts in: one, except for an agent in several teams."""
    if dimension == "agent":
        return [inquiry.agent or UNASSIGNED]
    if dimension == "team":
        return teams.of(inquiry.agent)
    return [str(getattr(inquiry, dimension))]


def sla_report(
    inquiries: list[InquiryFigures],
    since: datetime | None,
    by: tuple[str, ...] = DEFAULT_BY,
    teams: Teams | None = None,
    reviews: list[ReviewFigures] | None = None,
) -> SlaReport:
    """The figures overall, per group of each dimension in ``by``, and per day."""
    teams = teams or Teams()
    reviews = reviews or []
    grouped: dict[str, dict[str, Figures]] = {}
    for dimension in by:
        groups: dict[str, list[InquiryFigures]] = {}
        reviewed: dict[str, list[ReviewFigures]] = {}
        for inquiry in inquiries:
            for name in _groups_of(inquiry, dimension, teams):
                groups.setdefault(name, []).append(inquiry)
        for review in reviews:
            for name in _groups_of(review, dimension, teams):
                reviewed.setdefault(name, []).append(review)
        grouped[dimension] = {
            name: figures(groups.get(name, []), reviewed.get(name))
            for name in sorted({*groups, *reviewed})
        }
    days: dict[str, list[InquiryFigures]] = {}
    for inquiry in inquiries:
        if inquiry.started_at is not None:
            days.setdefault(inquiry.started_at.date().isoformat(), []).append(inquiry)
    return SlaReport(
        since=since,
        total=figures(inquiries, reviews),
        by=grouped,
        days={day: figures(group) for day, group in sorted(days.items())},
    )


def teams_of(rule_teams: dict[str, list[str]]) -> Teams:
    """``{team: [agents]}`` (the rule file's ``teams:``) turned round: each agent's teams."""
    of_agent: dict[str, list[str]] = {}
    for team, agents in sorted(rule_teams.items()):
        for agent in agents:
            if team not in of_agent.setdefault(agent, []):
                of_agent[agent].append(team)
    return Teams(of_agent=of_agent)


async def collect(client: Client, since: datetime | None) -> list[InquiryFigures]:
    """The latest run of every inquiry started since ``since`` (earlier runs continued as new)."""
    found: list[InquiryFigures] = []
    async for execution in client.list_workflows(visibility_query([], None, since)):
        if execution.status == WorkflowExecutionStatus.CONTINUED_AS_NEW:
            continue
        attributes = execution.typed_search_attributes

        def get(key: Any, default: Any = None, attributes: Any = attributes) -> Any:
            value = attributes.get(key)
            return default if value is None else value

        found.append(
            InquiryFigures(
                workflow_id=execution.id,
                channel=get(search.CHANNEL, "?"),
                category=get(search.CATEGORY, "?"),
                queue=get(search.QUEUE, "?"),
                closed=execution.status != WorkflowExecutionStatus.RUNNING,
                first_response_seconds=get(search.FIRST_RESPONSE),
                resolution_seconds=get(search.RESOLUTION),
                missed_internal=tuple(get(search.MISSED_INTERNAL, [])),
                breached=tuple(get(search.BREACHED, [])),
                reopens=get(search.REOPENS, 0),
                agent=get(search.AGENT),
                started_at=execution.start_time,
                rating=get(search.RATING),
                rating_asked=get(search.RATING_ASKED) is not None,
            )
        )
    return found


async def collect_reviews(client: Client, since: datetime | None) -> list[ReviewFigures]:
    """The quality reviews started since ``since`` that have scores (in their memo)."""
    query = f"WorkflowType='{REVIEW_WORKFLOW}'"
    if since is not None:
        query += f" AND StartTime >= '{since.isoformat()}'"
    found: list[ReviewFigures] = []
    async for execution in client.list_workflows(query):
        scores = (await execution.memo()).get("scores")
        if not isinstance(scores, dict) or not scores:
            continue
        attributes = execution.typed_search_attributes
        found.append(
            ReviewFigures(
                channel=attributes.get(search.CHANNEL) or "?",
                category=attributes.get(search.CATEGORY) or "?",
                queue=attributes.get(search.QUEUE) or "?",
                agent=attributes.get(search.AGENT),
                scores={str(k): int(v) for k, v in scores.items()},
            )
        )
    return found
