"""What the console's pages show, made from careflow's own answers: queue rows with their clock
state, an inquiry's clocks, and the composer's preview.

The queue shows one page from visibility (``due_pages.due_page``: the filters in the query, the
nearest due first across pages, a page's worth listed) and adds what only the inquiry knows (the
author's reach, which clock is due and its warning) by asking each shown inquiry's status once
and keeping the answer until its row changes: a queue that polls every two seconds asks again
only about the rows that moved. The filters' counts are visibility counts, one per value (the
dev server's SQLite visibility cannot ``GROUP BY`` a custom search attribute), kept a few
seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import quote

from temporalio.client import Client

from careflow.engine.model import Priority
from careflow.engine.ruleset import Ruleset
from careflow.engine.sensitive import find_sensitive
from careflow.engine.templates import TemplateRenderError, render_template
from careflow.engine.text_parts import (
    X_DM_LIMIT,
    X_TEXT_LIMIT,
    signed,
    split_text,
    x_length,
)
from careflow.temporal import inquiries
from careflow.temporal.inquiries import OPEN_QUERY, OpenInquiry, QueueFilters
from workflows import search
from workflows.state import ClockView, InquiryStatus, ValuesState

HIGH_REACH = search.HIGH_REACH_FOLLOWERS  # the default pack's ``high-reach`` rule (tags pr-risk)
ENRICH_AT_MOST = 200  # rows whose status the queue asks for; the rest show what visibility has
ASK_AT_ONCE = 16
ASK_FOR_AT_MOST = 3.0  # seconds a page waits for statuses (no worker: rows without facts)
ASK_AGAIN_AFTER = 10.0  # seconds before a status that failed is asked for again
FILTERS = ("queue", "category", "priority", "channel")
CHANNELS = ("x", "facebook", "instagram")  # careflow's channels, offered as filters
PRIORITIES: tuple[str, ...] = get_args(Priority)
COUNTS_KEPT_FOR = 5.0  # seconds: the counts of a queue polled every two seconds by many agents
COUNT_AT_ONCE = 8


@dataclass(frozen=True)
class Due:
    """The deadlines the countdown walks through: warning, internal target, published window
    (ISO times for the page's script), and the state they make now."""

    warning: str | None
    internal: str | None
    published: str | None
    state: str  # on-track, warning, internal-missed, published-missed, none


@dataclass(frozen=True)
class Facts:
    """What a row needs from the inquiry's status."""

    followers: int | None
    verified: bool
    high_reach: bool
    due: Due


@dataclass
class Row:
    """A queue row: visibility's line and, when asked, the status's facts."""

    line: OpenInquiry
    facts: Facts | None

    @property
    def handle(self) -> str:
        return self.line.author or "?"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def clock_running(clock: ClockView) -> bool:
    return clock.met_at is None and clock.stopped_at is None and clock.published_passed_at is None


def owed(clock: ClockView) -> bool:
    """Whether the customer is still owed what the clock measures: not met, not stopped, not
    paused; its countdown shows, past the published window too ("missed 3m ago")."""
    return clock.met_at is None and clock.stopped_at is None and not clock.paused


def state_at(clock: ClockView, now: datetime) -> str:
    """A running clock's state now: the published window beats the internal target beats the
    warning."""
    if clock.published == "missed" or now >= clock.published_due:
        return "published-missed"
    if clock.internal == "missed" or now >= clock.internal_due:
        return "internal-missed"
    if clock.warning_due is not None and now >= clock.warning_due:
        return "warning"
    return "on-track"


def due_of(status: InquiryStatus, now: datetime) -> Due:
    """The most urgent running clock's deadlines; a closed inquiry has none to count down."""
    running = [c for c in status.clocks.values() if clock_running(c)]
    if status.closed_at is not None or not running:
        state = "published-missed" if status.breached else "none"
        return Due(None, None, None, state)
    clock = min(running, key=lambda c: (c.internal_due, c.published_due))
    state = state_at(clock, now)
    if status.breached and state != "published-missed":
        state = "published-missed"  # an earlier clock's window was missed: it stays red
    return Due(_iso(clock.warning_due), _iso(clock.internal_due), _iso(clock.published_due), state)


def facts_of(status: InquiryStatus, now: datetime) -> Facts:
    author = status.inquiry.author
    reach = (author.followers or 0) >= HIGH_REACH or "pr-risk" in status.tags
    return Facts(author.followers, author.verified, reach, due_of(status, now))


@dataclass
class FactCache:
    """Each row's facts, kept while its visibility line (step, agent, deadline) is unchanged."""

    limit: int = 10_000
    _kept: dict[str, tuple[tuple[Any, ...], Facts]] = field(default_factory=dict)
    _failed: dict[str, float] = field(default_factory=dict)  # id: when to ask again
    _asking: set[asyncio.Task[None]] = field(default_factory=set)  # past the page's wait

    @staticmethod
    def _key(line: OpenInquiry) -> tuple[Any, ...]:
        return (line.next_due, line.step, line.agent, tuple(line.breached), line.priority)

    async def rows(self, client: Client, lines: list[OpenInquiry]) -> list[Row]:
        now = datetime.now(UTC)
        clock = time.monotonic()
        wanted = [
            line
            for line in lines[:ENRICH_AT_MOST]
            if self._kept.get(line.id, ((), None))[0] != self._key(line)
            and self._failed.get(line.id, 0.0) <= clock
        ]
        gate = asyncio.Semaphore(ASK_AT_ONCE)

        async def ask(line: OpenInquiry) -> None:
            self._failed[line.id] = clock + ASK_AGAIN_AFTER  # asked: not again until it answers
            async with gate:
                try:
                    status = await inquiries.status(client, line.id)
                except Exception:  # a row without facts still shows; its page says what failed
                    return
                self._failed.pop(line.id, None)
                self._kept[line.id] = (self._key(line), facts_of(status, now))

        if wanted:  # no worker, or a slow one: the page shows what visibility has
            tasks = {asyncio.ensure_future(ask(line)) for line in wanted}
            _, pending = await asyncio.wait(tasks, timeout=ASK_FOR_AT_MOST)
            self._asking |= pending  # they finish later and fill the cache for the next poll
            for task in pending:
                task.add_done_callback(self._asking.discard)
        self._failed = {k: v for k, v in self._failed.items() if v > clock}
        if len(self._kept) > self.limit:
            open_ids = {line.id for line in lines}
            self._kept = {k: v for k, v in self._kept.items() if k in open_ids}
        rows = []
        for line in lines:
            kept = self._kept.get(line.id)
            facts = kept[1] if kept else None
            if facts is not None:  # the state moves with the clock, not only with the row
                facts = Facts(
                    facts.followers, facts.verified, facts.high_reach, _restate(facts.due, now)
                )
            rows.append(Row(line, facts))
        return rows


def _restate(due: Due, now: datetime) -> Due:
    if due.published is None or due.state == "published-missed":
        return due
    marks = [
        ("published-missed", due.published),
        ("internal-missed", due.internal),
        ("warning", due.warning),
    ]
    for state, at in marks:
        if at is not None and now >= datetime.fromisoformat(at):
            return Due(due.warning, due.internal, due.published, state)
    return Due(due.warning, due.internal, due.published, "on-track")


# ---------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """The queue's filters: exact values, and ``mine``/``unassigned``."""

    values: dict[str, str]
    mine: bool
    unassigned: bool

    @classmethod
    def of(cls, params: dict[str, str]) -> Filters:
        values = {name: params[name] for name in FILTERS if params.get(name)}
        return cls(values, params.get("mine") == "1", params.get("unassigned") == "1")

    def for_visibility(self, me: str) -> QueueFilters:
        """The filters as clauses of the visibility query ("mine" is the agent's name);
        ``BadQueueRequest`` when they cannot combine."""
        v = self.values
        return QueueFilters(
            queue=v.get("queue"),
            category=v.get("category"),
            priority=v.get("priority"),
            channel=v.get("channel"),
            agent=me if self.mine else None,
            unassigned=self.unassigned,
        )

    def query(self, **change: str | None) -> str:
        """This filter set's query string with ``change`` applied (None removes)."""
        params: dict[str, str] = dict(self.values)
        if self.mine:
            params["mine"] = "1"
        if self.unassigned:
            params["unassigned"] = "1"
        for name, value in change.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value
        return "&".join(f"{k}={_quote(v)}" for k, v in sorted(params.items()))

    def toggle(self, name: str, value: str) -> str:
        """The query string with filter ``name`` set to ``value``, or cleared if it was."""
        if name in ("mine", "unassigned"):
            on = self.mine if name == "mine" else self.unassigned
            return self.query(**{name: None if on else "1"})
        return self.query(**{name: None if self.values.get(name) == value else value})

    def any(self) -> bool:
        return bool(self.values) or self.mine or self.unassigned


def _quote(value: str) -> str:
    return quote(value, safe="")


def facet_values(ruleset: Ruleset) -> dict[str, set[str]]:
    """The values each filter offers: what the rule file can set (its defaults and ``set``
    actions), careflow's channels and priorities; a page adds the values its rows show."""
    values: dict[str, set[str]] = {
        "queue": {ruleset.rule_file.defaults.queue},
        "category": {ruleset.rule_file.defaults.category},
        "priority": set(PRIORITIES),
        "channel": set(CHANNELS),
    }
    for rule in ruleset.rule_file.rules:
        for action in rule.do:
            if action.set is not None:
                if action.set.queue:
                    values["queue"].add(action.set.queue)
                if action.set.category:
                    values["category"].add(action.set.category)
    return values


def _one(name: str, value: str) -> QueueFilters:
    """The filters of one value: ``name`` is one of ``FILTERS``."""
    return QueueFilters(
        queue=value if name == "queue" else None,
        category=value if name == "category" else None,
        priority=value if name == "priority" else None,
        channel=value if name == "channel" else None,
    )


@dataclass
class CountCache:
    """The filters' counts over the whole open queue, one visibility count per value, kept
    ``COUNTS_KEPT_FOR`` seconds (per agent, for "mine")."""

    offered: dict[str, set[str]]
    _kept: dict[
        tuple[str, frozenset[tuple[str, str]], tuple[str, int]],
        tuple[float, dict[str, Counter[str]]],
    ] = field(default_factory=dict)

    async def counts(
        self, client: Client, me: str, rows: list[OpenInquiry], shown: tuple[str, int]
    ) -> dict[str, Counter[str]]:
        """The counts; ``shown`` (the page's query and how many match it) is part of the key,
        so an inquiry arriving or leaving refreshes them at once, never showing counts older
        than the page beside them."""
        seen = {
            (name, value)
            for row in rows
            for name in FILTERS
            if (value := getattr(row, name)) and value.isprintable() and value.strip()
        }
        asked = {(n, v) for n, values in self.offered.items() for v in values} | seen
        key = (me, frozenset(asked), shown)
        kept = self._kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        gate = asyncio.Semaphore(COUNT_AT_ONCE)

        async def count(filters: QueueFilters) -> int:
            async with gate:
                return (await client.count_workflows(filters.to_query(OPEN_QUERY))).count

        pairs = sorted(asked)
        numbers = await asyncio.gather(
            *(count(_one(name, value)) for name, value in pairs),
            count(QueueFilters(agent=me)),
            count(QueueFilters(unassigned=True)),
            count(QueueFilters()),
        )
        found: dict[str, Counter[str]] = {name: Counter() for name in FILTERS}
        for (name, value), number in zip(pairs, numbers, strict=False):
            if number:
                found[name][value] = number
        mine, unassigned, total = numbers[-3:]
        found["who"] = Counter({"mine": mine, "unassigned": unassigned, "open": total})
        if len(self._kept) > 1000:
            self._kept.clear()
        self._kept[key] = (time.monotonic() + COUNTS_KEPT_FOR, found)
        return found


# ---------------------------------------------------------------------- the composer


def values_of(status: InquiryStatus) -> ValuesState:
    return ValuesState(
        category=status.category,
        priority=status.priority,
        queue=status.queue,
        windows=status.windows,
        privatize=status.privatize,
        tags=status.tags,
    )


def preview(
    ruleset: Ruleset,
    status: InquiryStatus,
    agent: str,
    text: str,
    private: bool,
    template: str | None = None,
) -> dict[str, Any]:
    """The reply as the customer will get it: the template rendered for this inquiry (when one
    is chosen), the agent's signature, the posts or DM it becomes, and personal data found in
    a public one."""
    problem = None
    if template:
        source = ruleset.rule_file.templates.get(template)
        if source is None:
            problem = f"the rule file has no template {template!r}"
        else:
            variables = ruleset.template_variables(
                status.inquiry, values_of(status).values(), agent
            )
            try:
                text = render_template(source, variables)
            except TemplateRenderError as error:
                problem = str(error)
    inquiry = status.inquiry
    private = private or inquiry.kind == "private"
    words = text.strip()
    posted = signed(words, agent) if words else ""
    if inquiry.channel == "x" and private:
        parts = split_text(posted, X_DM_LIMIT) if posted else []
        shape = "one direct message on X" if len(parts) <= 1 else f"{len(parts)} direct messages"
        limit = X_DM_LIMIT
    elif inquiry.channel == "x":
        parts = split_text(posted, X_TEXT_LIMIT, x_length) if posted else []
        shape = "one post on X" if len(parts) <= 1 else f"a thread of {len(parts)} posts on X"
        limit = X_TEXT_LIMIT
    else:
        parts = [posted] if posted else []
        shape = f"one {'private' if private else 'public'} message on {inquiry.channel}"
        limit = None
    max_parts = ruleset.rule_file.flow.max_reply_parts
    return {
        "text": text,
        "signed": posted,
        "parts": parts,
        "shape": shape,
        "length": x_length(posted) if inquiry.channel == "x" else len(posted),
        "limit": limit,
        "too_long": inquiry.channel == "x" and not private and len(parts) > max_parts,
        "max_parts": max_parts,
        "sensitive": [] if private else find_sensitive(words),
        "problem": problem,
    }
