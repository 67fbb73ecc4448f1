"""What one inquiry came to under one rule file: the fields a change is reported on.

The fast path and the full path both produce ``Outcome``s, so one comparison serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The fields compared, in report order; ``clock.<name>`` holds a clock's verdict.
VALUE_FIELDS = (
    "category", "priority", "queue", "windows", "privatize", "tags", "segment", "topics"
)  # fmt: skip
COUNT_FIELDS = ("auto_replies", "notifications", "escalations")
MET = "met"
MISSED_INTERNAL = "missed internal"
BREACHED = "breached published"
PENDING = "pending"


@dataclass
class Outcome:
    """One inquiry's decisions and results under one rule file.

    ``rules`` names, per field, the rule(s) responsible for its value (comma-separated), or the
    rule file's section (``windows.<policy>``) when no rule is.
    """

    dropped: bool
    drop_reason: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    clocks: dict[str, str] = field(default_factory=dict)  # clock name -> verdict
    rules: dict[str, str] = field(default_factory=dict)
    diverged: str | None = None  # the agent action the run refused, and why

    def fields(self) -> dict[str, Any]:
        """Every compared field and its value (a dropped inquiry has only ``dropped``)."""
        found: dict[str, Any] = {"dropped": self.dropped}
        if self.dropped:
            return found
        found.update(self.values)
        found.update(self.counts)
        found.update({f"clock.{name}": verdict for name, verdict in self.clocks.items()})
        return found

    @property
    def breaches_published(self) -> int:
        return sum(verdict == BREACHED for verdict in self.clocks.values())

    @property
    def within_internal(self) -> int:
        return sum(verdict == MET for verdict in self.clocks.values())


def verdict_of(met: bool, met_at: Any, internal_due: Any, published_due: Any, horizon: Any) -> str:
    """A clock's verdict as the audit report words it, from when it was met (if it was) and how
    far the inquiry was observed (``horizon``)."""
    if met and met_at is not None:
        if met_at <= internal_due:
            return MET
        return MISSED_INTERNAL if met_at <= published_due else BREACHED
    if horizon >= published_due:
        return BREACHED
    return MISSED_INTERNAL if horizon >= internal_due else PENDING
