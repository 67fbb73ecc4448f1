"""What the console's pages show, made from careflow's own answers: queue rows with their clock
state, an inquiry's clocks, and the composer's preview.

The queue lists inquiries from visibility (``list_open``: memo and search attributes, one call)
and adds what only the inquiry knows (the author's reach, which clock is due and its warning) by
asking each inquiry's status once and keeping the answer until its row changes: a queue that
polls every two seconds asks again only about the rows that moved.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from temporalio.client import Client

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
from careflow.temporal.inquiries import OpenInquiry, list_open
from workflows.state import ClockView, InquiryStatus, ValuesState

HIGH_REACH = 10_000  # followers: the default pack's ``high-reach`` rule (tagged pr-risk)
ENRICH_AT_MOST = 200  # rows whose status the queue asks for; the rest show what visibility has
ASK_AT_ONCE = 16
FILTERS = ("queue", "category", "priority", "channel")


async def open_inquiries(client: Client) -> list[OpenInquiry]:
    """The one place the console lists open inquiries (nearest due first)."""
    return (await list_open(client)).rows  # the whole queue: the counts need every row


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

    @staticmethod
    def _key(line: OpenInquiry) -> tuple[Any, ...]:
        return (line.next_due, line.step, line.agent, tuple(line.breached), line.priority)

    async def rows(self, client: Client, lines: list[OpenInquiry]) -> list[Row]:
        now = datetime.now(UTC)
        wanted = [
            line
            for line in lines[:ENRICH_AT_MOST]
            if self._kept.get(line.id, ((), None))[0] != self._key(line)
        ]
        gate = asyncio.Semaphore(ASK_AT_ONCE)

        async def ask(line: OpenInquiry) -> None:
            async with gate:
                try:
                    status = await inquiries.status(client, line.id)
                except Exception:  # a row without facts still shows; its page says what failed
                    return
                self._kept[line.id] = (self._key(line), facts_of(status, now))

        await asyncio.gather(*(ask(line) for line in wanted))
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

    def keep(self, line: OpenInquiry, me: str) -> bool:
        if any(getattr(line, name) != value for name, value in self.values.items()):
            return False
        if self.mine and line.agent != me:
            return False
        return not (self.unassigned and line.agent is not None)

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


def counts(lines: list[OpenInquiry], me: str) -> dict[str, Counter[str]]:
    """How many open inquiries each filter value has (over the whole queue)."""
    found: dict[str, Counter[str]] = {name: Counter() for name in FILTERS}
    for line in lines:
        for name in FILTERS:
            found[name][getattr(line, name) or "?"] += 1
    found["who"] = Counter(
        {
            "mine": sum(1 for line in lines if line.agent == me),
            "unassigned": sum(1 for line in lines if line.agent is None),
        }
    )
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
