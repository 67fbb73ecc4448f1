"""``careflow insights``: what customers talk about, per topic and segment, from visibility.

Every figure is a visibility *count* (``count_workflows``): the server counts, careflow never
reads a history, so a report costs the same number of calls for a hundred inquiries or a
million. Per report, with T topics and G values of the ``--by`` dimension:

- ``2 * (T + 1 + G)`` counts for the totals (each topic, all inquiries, each group; this
  period and the one before), then ``2 * G`` more for each topic seen in either period;
- one short listing (3 ids) per topic seen, for its examples;
- the emerging phrases read the memo of untagged inquiries (the start of each post, which the
  queue shows too), a page of up to 1,000 per call, at most ``MAX_TEXTS`` per period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from temporalio.client import Client

from careflow.engine.phrases import Document, emerging_phrases
from careflow.engine.ruleset import Ruleset
from careflow.temporal.explain import explained
from careflow.temporal.inquiries import quoted
from workflows import search
from workflows.messages import WORKFLOW_NAME

Dimension = Literal["segment", "channel", "category"]
DIMENSIONS: dict[str, str] = {
    "segment": search.SEGMENT.name,
    "channel": search.CHANNEL.name,
    "category": search.CATEGORY.name,
}
# Channels careflow normalizes; any other counts under "(other)".
CHANNELS = ("x", "facebook", "messenger", "instagram")
OTHER = "(other)"
ALL = "(all)"
MAX_TEXTS = 5000  # per period, newest first: enough to see a phrase rise, bounded
CONCURRENT_CALLS = 8  # visibility calls in flight at once


class Cell(BaseModel):
    """One topic in one group (``(all)``: every group): this period, the one before, change."""

    topic: str  # a topic's name, or "(all)": every inquiry
    group: str
    count: int
    previous: int
    change: float | None  # (count - previous) / previous; None when previous is 0


class TopicSummary(BaseModel):
    """A topic over every group, with example inquiries of this period."""

    topic: str
    count: int
    previous: int
    change: float | None
    examples: list[str]


class EmergingPhrase(BaseModel):
    phrase: str
    count: int
    baseline: int
    ratio: float
    examples: list[str]


class InsightsReport(BaseModel):
    """What ``careflow insights`` prints (``--json``) and the console's page shows."""

    since: datetime
    until: datetime
    previous_since: datetime
    by: Dimension
    groups: list[str]
    total: int
    previous_total: int
    topics: list[TopicSummary]
    cells: list[Cell]
    phrases: list[EmergingPhrase]
    visibility_calls: int
    texts_read: int


def change(count: int, previous: int) -> float | None:
    """The relative change, rounded to a percent's tenth; None when there was nothing before."""
    return round((count - previous) / previous, 3) if previous else None


def period_query(since: datetime, until: datetime) -> str:
    """Inquiries whose (latest) run started in ``[since, until)``: a run continued as new is
    counted once, as its latest run."""
    return (
        f"WorkflowType={quoted(WORKFLOW_NAME)} AND ExecutionStatus != 'ContinuedAsNew' "
        f"AND StartTime >= {quoted(since.isoformat())} AND StartTime < {quoted(until.isoformat())}"
    )


def topic_clause(topic: str) -> str:
    return f"{search.TOPICS.name} = {quoted(search.topic_token(topic))}"


def group_values(ruleset: Ruleset, by: Dimension) -> list[str]:
    """The values of the ``--by`` dimension that careflow can name: the rules' own for segment
    and category, the platforms' for channel."""
    return list(CHANNELS) if by == "channel" else ruleset.values_set(by)


class _Calls:
    """Visibility calls, at most ``CONCURRENT_CALLS`` at once, counted for the report."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.made = 0
        self._gate = asyncio.Semaphore(CONCURRENT_CALLS)

    async def count(self, query: str) -> int:
        async with self._gate:
            self.made += 1
            return (await self.client.count_workflows(query)).count

    async def ids(self, query: str, limit: int) -> list[str]:
        async with self._gate:
            self.made += 1
            return [e.id async for e in self.client.list_workflows(query, limit=limit)]

    async def texts(self, query: str, limit: int) -> list[Document]:
        found: list[Document] = []
        async with self._gate:
            listing = self.client.list_workflows(query, limit=limit)
            async for execution in listing:
                memo = await execution.memo()
                text = memo.get("text")
                if isinstance(text, str) and text:
                    found.append(Document(execution.id, text))
            self.made += max(1, -(-len(found) // 1000))
        return found


async def _gather(calls: list[Awaitable[int]]) -> list[int]:
    return list(await asyncio.gather(*calls))


async def insights(
    client: Client,
    ruleset: Ruleset,
    now: datetime,
    period: timedelta,
    by: Dimension = "segment",
    *,
    phrases: bool = True,
) -> InsightsReport:
    """The report for ``[now - period, now)`` against the period of the same length before."""
    since, before = now - period, now - 2 * period
    this, last = period_query(since, now), period_query(before, since)
    topics = [name for name, _ in ruleset.topics]
    groups = group_values(ruleset, by)
    column = DIMENSIONS[by]
    calls = _Calls(client)

    def grouped(base: str, group: str) -> str:
        return f"{base} AND {column} = {quoted(group)}"

    with explained(client):
        heads = [this, last]
        heads += [f"{q} AND {topic_clause(t)}" for t in topics for q in (this, last)]
        heads += [grouped(q, g) for g in groups for q in (this, last)]
        head_counts = await _gather([calls.count(q) for q in heads])
        total, previous_total = head_counts[0], head_counts[1]
        per_topic = {
            t: (head_counts[2 + 2 * i], head_counts[3 + 2 * i]) for i, t in enumerate(topics)
        }
        offset = 2 + 2 * len(topics)
        per_group = {
            g: (head_counts[offset + 2 * i], head_counts[offset + 1 + 2 * i])
            for i, g in enumerate(groups)
        }
        seen = [t for t in topics if any(per_topic[t])]
        cell_queries = [
            grouped(f"{q} AND {topic_clause(t)}", g)
            for t in seen
            for g in groups
            for q in (this, last)
        ]
        cell_counts = await _gather([calls.count(q) for q in cell_queries])
        examples = await asyncio.gather(
            *(calls.ids(f"{this} AND {topic_clause(t)}", 3) for t in seen)
        )
        documents: tuple[list[Document], list[Document]] = ([], [])
        if phrases:
            untagged = f"{search.TOPICS.name} IS NULL"
            documents = (
                await calls.texts(f"{this} AND {untagged}", MAX_TEXTS),
                await calls.texts(f"{last} AND {untagged}", MAX_TEXTS),
            )

    cells = _cells(ALL, (total, previous_total), per_group)
    for index, t in enumerate(seen):
        start = index * 2 * len(groups)
        counts = {
            g: (cell_counts[start + 2 * j], cell_counts[start + 2 * j + 1])
            for j, g in enumerate(groups)
        }
        cells += _cells(t, per_topic[t], counts)
    rising = emerging_phrases(*documents, covered=ruleset.topic_covers) if phrases else []
    example_of = dict(zip(seen, examples, strict=True))
    return InsightsReport(
        since=since,
        until=now,
        previous_since=before,
        by=by,
        groups=[*groups, OTHER],
        total=total,
        previous_total=previous_total,
        topics=[
            TopicSummary(
                topic=t,
                count=per_topic[t][0],
                previous=per_topic[t][1],
                change=change(*per_topic[t]),
                examples=example_of.get(t, []),
            )
            for t in topics
        ],
        cells=cells,
        phrases=[EmergingPhrase(**vars(p)) for p in rising],
        visibility_calls=calls.made,
        texts_read=len(documents[0]) + len(documents[1]),
    )


def _cells(topic: str, totals: tuple[int, int], counts: dict[str, tuple[int, int]]) -> list[Cell]:
    """One cell per group with inquiries in either period, and ``(other)`` for the rest (an
    inquiry started before segments were kept, or on a channel careflow does not name)."""
    cells = [
        Cell(topic=topic, group=g, count=c, previous=p, change=change(c, p))
        for g, (c, p) in counts.items()
        if c or p
    ]
    other = (
        totals[0] - sum(c for c, _ in counts.values()),
        totals[1] - sum(p for _, p in counts.values()),
    )
    if any(other):
        cells.append(
            Cell(topic=topic, group=OTHER, count=other[0], previous=other[1], change=change(*other))
        )
    return cells
