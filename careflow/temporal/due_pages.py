"""The queue nearest due first across pages, listing only a page's worth of inquiries.

SQL visibility (the dev server's SQLite included) refuses ``ORDER BY``, and it pages newest
start first, so a server page is not the most urgent. Counting is cheap (about a millisecond on
the dev server) and takes range clauses on ``CareNextDue``, so a page is found by counting:
from the page's start (a ``Mark``: the due time and id of the row before it), widen a time
window until it holds between ``size`` and ``2 * size`` inquiries (doubling, then halving),
list just that window and order it here. Inquiries with no running clock come after every
dated one, the oldest started first (the same search over ``StartTime``).

The cost of a page grows with the logarithm of the queue's time span, not with its length.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.client import Client

from careflow.temporal.explain import explained
from careflow.temporal.inquiries import (
    MAX_PAGE_SIZE,
    BadQueueRequest,
    OpenInquiry,
    QueueFilters,
    quoted,
    row_of,
)
from workflows import search

STEP = timedelta(minutes=1)  # the first widening of a window; it doubles from there
MOST_DOUBLINGS = 30
# Visibility compares its stored times as text at its own precision, so a row due exactly at a
# mark may fall on either side of ``>=``; bounds reach this much past a mark, to include it.
SLACK = timedelta(milliseconds=1)  # 2**30 minutes is two thousand years: every queue fits


@dataclass(frozen=True)
class Segment:
    """A part of the queue's order: the dated inquiries by due time, then the undated by start."""

    clause: str
    attribute: str
    undated: bool


DATED = Segment(f"{search.NEXT_DUE.name} IS NOT NULL", search.NEXT_DUE.name, False)
UNDATED = Segment(f"{search.NEXT_DUE.name} IS NULL", "StartTime", True)
SEGMENTS = (DATED, UNDATED)


@dataclass(frozen=True)
class Mark:
    """A row's place in the queue's order: undated rows last, then by time, then by id."""

    undated: bool
    at: datetime
    id: str

    def encode(self) -> str:
        """The mark as URL-safe text (for a link's query string)."""
        raw = json.dumps([int(self.undated), self.at.isoformat(), self.id]).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Mark:
        """The mark ``encode`` made; anything else is the caller's mistake, said so."""
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
            undated, at, inquiry_id = json.loads(raw)
            when = datetime.fromisoformat(at)
            if when.tzinfo is None or not isinstance(inquiry_id, str) or undated not in (0, 1):
                raise ValueError(text)
        except (ValueError, TypeError, UnicodeError):
            raise BadQueueRequest("the page link is not one the queue gave") from None
        return cls(bool(undated), when, inquiry_id)


def mark_of(row: OpenInquiry) -> Mark:
    return Mark(row.next_due is None, row.next_due or row.started, row.id)


def _sort_key(row: OpenInquiry) -> tuple[bool, datetime, str]:
    mark = mark_of(row)
    return (mark.undated, mark.at, mark.id)


class DuePage(BaseModel):
    """One page of the queue in due order, with the marks for the pages around it (None: there
    is none that way) and how many inquiries match the filters."""

    rows: list[OpenInquiry]
    matching: int
    next_mark: str | None = None
    prev_mark: str | None = None


def _time(value: datetime) -> str:
    return quoted(value.astimezone(UTC).isoformat())


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def _edge(
    client: Client, window: Callable[[datetime], str], anchor: datetime, forward: bool, size: int
) -> datetime:
    """A time ``t`` whose ``window(t)`` holds from ``size`` to ``2 * size`` inquiries, or the
    narrowest that holds at least ``size`` (many inquiries due at one instant)."""
    sign = 1 if forward else -1
    found = await _count(client, window(anchor))
    if size <= found <= 2 * size:
        return anchor
    # Gallop away from the anchor (or back past it) until the window brackets the band.
    toward = found < size
    short, wide = (anchor, None) if toward else (None, anchor)
    probe = anchor
    for doubling in range(MOST_DOUBLINGS + 1):
        step = STEP * (1 << doubling) * (sign if toward else -sign)
        try:
            probe = anchor + step
        except OverflowError:  # past year 9999 or before year 1: nothing is due there
            break
        found = await _count(client, window(probe))
        if size <= found <= 2 * size:
            return probe
        if found < size:
            short = probe
        else:
            wide = probe
        if short is not None and wide is not None:
            break
    if short is None or wide is None:
        return probe  # the whole span is one side of the band: list what it holds
    while abs(wide - short) > timedelta(microseconds=1):
        middle = short + (wide - short) / 2
        found = await _count(client, window(middle))
        if size <= found <= 2 * size:
            return middle
        if found < size:
            short = middle
        else:
            wide = middle
    return wide


async def _take(
    client: Client, base: str, segment: Segment, mark: Mark | None, forward: bool, size: int
) -> tuple[list[OpenInquiry], bool]:
    """Up to ``size`` rows of ``segment`` just after ``mark`` (before it, going back; from the
    segment's start or end without one), in queue order, and whether more lie beyond them.

    A window can come back short (it counted the mark's own row, or ties at the mark): then
    the next window, from the last row taken, fills the page."""
    rows: list[OpenInquiry] = []
    more = True
    while more and len(rows) < size:
        got, more = await _window(client, base, segment, mark, forward, size - len(rows))
        if not got:
            break
        rows = rows + got if forward else got + rows
        mark = mark_of(rows[-1] if forward else rows[0])
    return rows, more


async def _window(
    client: Client, base: str, segment: Segment, mark: Mark | None, forward: bool, size: int
) -> tuple[list[OpenInquiry], bool]:
    """One window's rows for ``_take``, and whether more lie beyond them."""
    attribute = segment.attribute
    scope = counted = f"{base} AND {segment.clause}"
    if mark is not None:
        # Listed: from a little before the mark (the rows at it are sorted out below). Counted:
        # from a little past it, so a window's count is of rows beyond the mark.
        near, past = (">=", ">") if forward else ("<=", "<")
        sign = 1 if forward else -1
        scope += f" AND {attribute} {near} {_time(mark.at - sign * SLACK)}"
        counted += f" AND {attribute} {past} {_time(mark.at + sign * SLACK)}"
    total = await _count(client, scope)
    if total == 0:
        return [], False
    query = scope
    if total > 2 * size:
        far = "<" if forward else ">"

        def window(at: datetime) -> str:
            return f"{counted} AND {attribute} {far} {_time(at)}"

        anchor = mark.at if mark is not None else datetime.now(UTC)
        edge = await _edge(client, window, anchor, forward, size)
        query = f"{scope} AND {attribute} {far} {_time(edge)}"
    with explained(client):
        rows = [
            row_of(execution, await execution.memo())
            async for execution in client.list_workflows(query, page_size=MAX_PAGE_SIZE)
        ]
    listed = len(rows)
    rows.sort(key=_sort_key)
    if mark is not None:
        at = (mark.undated, mark.at, mark.id)
        rows = [r for r in rows if (_sort_key(r) > at if forward else _sort_key(r) < at)]
    taken = rows[:size] if forward else rows[-size:]
    return taken, len(rows) > size or total > listed


async def due_page(
    client: Client,
    filters: QueueFilters | None = None,
    size: int = 50,
    after: Mark | None = None,
    before: Mark | None = None,
    *,
    query: str | None = None,
) -> DuePage:
    """The page of open inquiries just after ``after`` (or just before ``before``; the first
    page without either) in due order: nearest due first, undated last. ``query`` replaces the
    filters' visibility query (the supervisor view's at-risk list)."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQueueRequest(f"the page size must be from 1 to {MAX_PAGE_SIZE}")
    if after is not None and before is not None:
        raise BadQueueRequest("a page starts after one mark or ends before one, not both")
    base = query if query is not None else (filters or QueueFilters()).to_query()
    forward = before is None
    mark = after if forward else before
    order = SEGMENTS if forward else tuple(reversed(SEGMENTS))
    if mark is not None:
        order = order[[s.undated for s in order].index(mark.undated) :]
    rows: list[OpenInquiry] = []
    more = False
    for segment in order:
        if len(rows) >= size:
            more = more or await _count(client, f"{base} AND {segment.clause}") > 0
            break
        own = mark if mark is not None and segment.undated == mark.undated else None
        got, more = await _take(client, base, segment, own, forward, size - len(rows))
        rows = rows + got if forward else got + rows
        if more:
            break
    matching = await _count(client, base)
    if not rows:
        return DuePage(rows=[], matching=matching)
    has_next, has_prev = (more, mark is not None) if forward else (True, more)
    return DuePage(
        rows=rows,
        matching=matching,
        next_mark=mark_of(rows[-1]).encode() if has_next else None,
        prev_mark=mark_of(rows[0]).encode() if has_prev else None,
    )
