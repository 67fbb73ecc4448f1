"""The supervisor view's figures, counted by visibility instead of listing the open queue.

Open work by queue and step, each agent's load, the inquiries at risk, the high-reach ones and
today's breaches are visibility counts. SQL visibility (the dev server's too) and Elasticsearch
refuse ``GROUP BY`` on a custom search attribute ("'GROUP BY' clause is not supported for search
attribute CareQueue"), so each figure is one count per value, run a few at a time: the values
the rule file and the API tokens name, and an ``(other)`` remainder for any value neither does.
At risk, high reach and today's breaches also list their first page, the nearest due first, found
by counting as the queue's pages are (``due_pages``); statuses are asked for those rows only.

The cost grows with the number of queues, steps and agents, not with the number of inquiries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from temporalio.client import Client

from careflow.temporal.due_pages import due_page
from careflow.temporal.explain import explained
from careflow.temporal.inquiries import OPEN_QUERY, OpenInquiry, quoted
from workflows import search
from workflows.messages import WORKFLOW_NAME
from workflows.state import Step

STEPS: tuple[str, ...] = tuple(s for s in get_args(Step) if s != "closed")  # open inquiries'
COUNT_AT_ONCE = 8
LISTED = 50  # rows of the at-risk, high-reach and breaches lists
OTHER = "(other)"
UNASSIGNED = "(unassigned)"


@dataclass(frozen=True)
class Listed:
    """How many inquiries match a figure, and the first of them (nearest due first)."""

    count: int
    rows: list[OpenInquiry]


@dataclass(frozen=True)
class Floor:
    """The supervisor view's figures."""

    open: int
    by_queue_step: dict[tuple[str, str], int]  # only the cells with inquiries
    queues: list[str]
    steps: list[str]
    load: list[tuple[str, int]]  # (agent, open inquiries assigned), unassigned last
    at_risk: Listed
    high_reach: Listed
    breaches_today: Listed


def _time(value: datetime) -> str:
    return quoted(value.astimezone(UTC).isoformat())


def at_risk_query(now: datetime) -> str:
    """Open inquiries at risk now: a running clock's warning or internal target passed, or a
    published window missed (the same states the queue colours)."""
    return (
        f"{OPEN_QUERY} AND ({search.AT_RISK.name} <= {_time(now)}"
        f" OR {search.BREACHED.name} IS NOT NULL)"
    )


HIGH_REACH_QUERY = f"{OPEN_QUERY} AND {search.HIGH_REACH.name} = true"


def breaches_query(today: datetime) -> str:
    """Inquiries started since ``today`` (open or closed) that missed a published window."""
    return (
        f"WorkflowType='{WORKFLOW_NAME}' AND StartTime >= {_time(today)}"
        f" AND {search.BREACHED.name} IS NOT NULL"
    )


class _Counter:
    """Counts, at most ``COUNT_AT_ONCE`` in flight."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._gate = asyncio.Semaphore(COUNT_AT_ONCE)

    async def count(self, query: str) -> int:
        async with self._gate:
            with explained(self._client):
                return (await self._client.count_workflows(query)).count

    async def many(self, queries: Sequence[str]) -> list[int]:
        return list(await asyncio.gather(*(self.count(q) for q in queries)))


async def _listed(client: Client, query: str) -> Listed:
    """How many inquiries ``query`` matches, and the first ``LISTED`` nearest due (found by
    counting, as the queue's pages are: ``due_pages``)."""
    with explained(client):
        page = await due_page(client, size=LISTED, query=query)
    return Listed(page.matching, page.rows)


def _is(key_name: str, value: str) -> str:
    return f"{key_name}={quoted(value)}"


async def _by_queue_step(
    counter: _Counter, total: int, queues: Iterable[str]
) -> tuple[dict[tuple[str, str], int], list[str]]:
    """The cells of open work with inquiries in them; a queue the rule file does not name is
    counted under ``(other)``."""
    named = sorted(set(queues))
    queue_name, step_name = search.QUEUE.name, search.STEP.name
    per_queue = await counter.many([f"{OPEN_QUERY} AND {_is(queue_name, q)}" for q in named])
    per_step = await counter.many([f"{OPEN_QUERY} AND {_is(step_name, s)}" for s in STEPS])
    busy = [q for q, n in zip(named, per_queue, strict=True) if n]
    cells = [(q, s) for q in busy for s in STEPS]
    numbers = await counter.many(
        [f"{OPEN_QUERY} AND {_is(queue_name, q)} AND {_is(step_name, s)}" for q, s in cells]
    )
    found = {cell: n for cell, n in zip(cells, numbers, strict=True) if n}
    if sum(per_queue) < total:  # queues the rule file no longer (or never) named
        for step, in_step in zip(STEPS, per_step, strict=True):
            rest = in_step - sum(found.get((q, step), 0) for q in busy)
            if rest > 0:
                found[(OTHER, step)] = rest
    shown = busy + ([OTHER] if any(q == OTHER for q, _ in found) else [])
    return found, shown


async def _load(counter: _Counter, total: int, agents: Iterable[str]) -> list[tuple[str, int]]:
    """Each named agent's open inquiries (those with none left out), then other agents', then
    the unassigned."""
    named = sorted(set(agents))
    agent = search.AGENT.name
    numbers = await counter.many(
        [f"{OPEN_QUERY} AND {_is(agent, a)}" for a in named] + [f"{OPEN_QUERY} AND {agent} IS NULL"]
    )
    *each, unassigned = numbers
    load = [(a, n) for a, n in zip(named, each, strict=True) if n]
    rest = total - unassigned - sum(each)
    if rest > 0:
        load.append((OTHER, rest))
    return [*load, (UNASSIGNED, unassigned)]


async def floor(
    client: Client, queues: Iterable[str], agents: Iterable[str], now: datetime
) -> Floor:
    """The figures now; ``queues`` and ``agents`` are the values to count per (the rule file's
    queues; the agents the API tokens and the rule file's teams name)."""
    counter = _Counter(client)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    total = await counter.count(OPEN_QUERY)
    (cells, shown), load, at_risk, high_reach, breaches = await asyncio.gather(
        _by_queue_step(counter, total, queues),
        _load(counter, total, agents),
        _listed(client, at_risk_query(now)),
        _listed(client, HIGH_REACH_QUERY),
        _listed(client, breaches_query(today)),
    )
    return Floor(
        open=total,
        by_queue_step=cells,
        queues=shown,
        steps=[s for s in STEPS if any(step == s for _, step in cells)],
        load=load,
        at_risk=at_risk,
        high_reach=high_reach,
        breaches_today=breaches,
    )
