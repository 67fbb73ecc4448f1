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

DIMENSIONS = ("channel", "category", "queue")


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


class Figures(BaseModel):
    """The figures of one group of inquiries."""

    inquiries: int
    open: int
    answered: int  # inquiries with a first response
    first_response_median_seconds: float | None
    first_response_p90_seconds: float | None
    within_internal_share: float | None  # no clock missed its internal target
    within_published_share: float | None  # no clock breached its published window
    breaches: int
    reopen_rate: float | None
    csat: float | None = None  # not collected yet: the follow-up asks, nobody scores


class SlaReport(BaseModel):
    since: datetime | None
    total: Figures
    by: dict[str, dict[str, Figures]]


def format_seconds(value: float | None) -> str:
    """``45s``, ``12m 30s`` or ``2h 36m``; ``-`` when nothing was measured."""
    return duration(value)


def format_share(value: float | None) -> str:
    """``85%``; ``-`` for an empty group."""
    return "-" if value is None else f"{value:.0%}"


def _percentile(values: list[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)  # linear interpolation between closest ranks
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def figures(inquiries: list[InquiryFigures]) -> Figures:
    """Count, medians and shares for a group of inquiries."""
    count = len(inquiries)
    responses = [
        i.first_response_seconds for i in inquiries if i.first_response_seconds is not None
    ]

    def share(test: Any) -> float | None:
        return sum(1 for i in inquiries if test(i)) / count if count else None

    return Figures(
        inquiries=count,
        open=sum(1 for i in inquiries if not i.closed),
        answered=len(responses),
        first_response_median_seconds=statistics.median(responses) if responses else None,
        first_response_p90_seconds=_percentile(responses, 0.9),
        within_internal_share=share(lambda i: not i.missed_internal),
        within_published_share=share(lambda i: not i.breached),
        breaches=sum(1 for i in inquiries if i.breached),
        reopen_rate=share(lambda i: i.reopens > 0),
    )


def sla_report(inquiries: list[InquiryFigures], since: datetime | None) -> SlaReport:
    by: dict[str, dict[str, Figures]] = {}
    for dimension in DIMENSIONS:
        groups: dict[str, list[InquiryFigures]] = {}
        for inquiry in inquiries:
            groups.setdefault(getattr(inquiry, dimension), []).append(inquiry)
        by[dimension] = {name: figures(group) for name, group in sorted(groups.items())}
    return SlaReport(since=since, total=figures(inquiries), by=by)


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
            )
        )
    return found
