"""The what-if report: totals before and after, and every change, with the rules responsible.

Plain pydantic models: ``--json`` prints one as it stands, the terminal and HTML views read it.
Its content depends only on the inputs (sorted, no times of the run), so the same inputs give
the same report.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

EXAMPLES = 5  # example inquiry ids kept per group of changes


class Totals(BaseModel):
    """Sums over the inquiries run; clocks count once per clock (the fast path has only the
    acknowledge clock)."""

    dropped: int = 0
    auto_replies: int = 0
    notifications: int = 0
    escalations: int = 0
    breaches_published: int = 0
    within_internal: int = 0
    clocks: int = 0  # clocks with a verdict: the shares' denominator
    diverged: int = 0


class BeforeAfter(BaseModel):
    before: Totals
    after: Totals


class Change(BaseModel):
    """One field of one inquiry that the new rules change."""

    workflow_id: str
    run_id: str  # the inquiry's first run (a conversation's next inquiry reuses the id)
    field: str
    before: Any
    after: Any
    rule: str | None  # the rule (or rule-file section) responsible


class Drop(BaseModel):
    """An inquiry the new rules drop, or no longer drop."""

    workflow_id: str
    rule: str | None
    reason: str | None
    text: str


class Moved(BaseModel):
    """How many inquiries one field moved from one value to another, with examples."""

    field: str
    before: Any
    after: Any
    count: int
    rules: list[str]
    examples: list[str]


class TopicCount(BaseModel):
    """One topic: the inquiries (not dropped) that matched it before and after, and those that
    gained or lost it, with examples."""

    topic: str
    before: int
    after: int
    gained: int
    lost: int
    examples_gained: list[str]
    examples_lost: list[str]


class SegmentCount(BaseModel):
    """The inquiries (not dropped) in one segment before and after."""

    segment: str
    before: int
    after: int


class Diverged(BaseModel):
    """An agent action the run refused: the rest of that inquiry's actions were skipped."""

    workflow_id: str
    side: Literal["before", "after"]
    reason: str


class Skipped(BaseModel):
    """An inquiry that could not be run, and why."""

    workflow_id: str
    reason: str


class RulesUsed(BaseModel):
    name: str
    digest: str
    file: str


class Report(BaseModel):
    """What ``careflow rules whatif`` found."""

    path: Literal["fast", "full"]
    rules: RulesUsed
    baseline: RulesUsed | Literal["history"]
    inquiries: int
    totals: BeforeAfter
    changes: list[Change]
    drops: dict[str, list[Drop]]  # gained, lost
    moved: list[Moved]
    topics: list[TopicCount]
    segments: list[SegmentCount]
    diverged: list[Diverged]
    skipped: list[Skipped]

    def changed_inquiries(self) -> int:
        return len({(c.workflow_id, c.run_id) for c in self.changes})
