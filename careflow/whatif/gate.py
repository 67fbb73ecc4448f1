"""``--fail-if``: a rule review's gate, e.g. ``breaches.published > 0`` or ``drops.gained > 5%``.

One comparison per expression, ``METRIC OP NUMBER`` or ``METRIC OP NUMBER%`` (a share of the
inquiries run), read with a regular expression: nothing is evaluated as code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from careflow.engine.suggest import did_you_mean
from careflow.whatif.outcome import BREACHED, MET, VALUE_FIELDS
from careflow.whatif.report import Report

_EXPRESSION = re.compile(
    r"^\s*(?P<metric>[a-z_.]+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<number>\d+(?:\.\d+)?)(?P<percent>%?)\s*$"
)
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def _net(field: str) -> Callable[[Report], float]:
    return lambda r: getattr(r.totals.after, field) - getattr(r.totals.before, field)


def _clock_moves(report: Report, into: str, leaving: bool) -> int:
    """Clock verdicts that became (or stopped being) ``into``."""
    count = 0
    for change in report.changes:
        if not change.field.startswith("clock."):
            continue
        became = change.after == into and change.before != into
        stopped = change.before == into and change.after != into
        count += stopped if leaving else became
    return count


def _changed(field: str) -> Callable[[Report], float]:
    return lambda r: sum(c.field == field for c in r.changes)


METRICS: dict[str, Callable[[Report], float]] = {
    "drops.gained": lambda r: len(r.drops["gained"]),
    "drops.lost": lambda r: len(r.drops["lost"]),
    "breaches.published": _net("breaches_published"),
    "breaches.added": lambda r: _clock_moves(r, BREACHED, leaving=False),
    "breaches.removed": lambda r: _clock_moves(r, BREACHED, leaving=True),
    "within_internal.lost": lambda r: _clock_moves(r, MET, leaving=True),
    "within_internal.gained": lambda r: _clock_moves(r, MET, leaving=False),
    "auto_replies": _net("auto_replies"),
    "notifications": _net("notifications"),
    "escalations": _net("escalations"),
    "diverged": lambda r: r.totals.after.diverged,
    "changed": lambda r: r.changed_inquiries(),
    **{f"changed.{field}": _changed(field) for field in VALUE_FIELDS},
}


class GateError(ValueError):
    """A ``--fail-if`` expression that cannot be read, said with what would be."""


@dataclass(frozen=True)
class Gate:
    """One parsed ``--fail-if`` expression."""

    text: str
    metric: str
    op: str
    number: float
    percent: bool

    def value(self, report: Report) -> float:
        """The metric, as a percentage of the inquiries run when the threshold is one."""
        value = METRICS[self.metric](report)
        if self.percent:
            return 100.0 * value / report.inquiries if report.inquiries else 0.0
        return value

    def fails(self, report: Report) -> bool:
        return _OPERATORS[self.op](self.value(report), self.number)

    def describe(self, report: Report) -> str:
        value = self.value(report)
        shown = f"{value:.1f}%" if self.percent else f"{value:g}"
        return f"{self.text.strip()}: {self.metric} is {shown}"


def parse_gate(text: str) -> Gate:
    """``drops.gained > 5%`` as a Gate; anything else is a GateError saying what is allowed."""
    match = _EXPRESSION.match(text)
    if match is None:
        raise GateError(
            f"--fail-if {text!r}: expected METRIC OP NUMBER (OP one of > >= < <= == !=; "
            "NUMBER may end in %), e.g. 'breaches.published > 0' or 'drops.gained > 5%'"
        )
    metric = match["metric"]
    if metric not in METRICS:
        hint = did_you_mean(metric, METRICS)
        raise GateError(
            f"--fail-if {text!r}: unknown metric {metric!r}{hint}; use one of: {', '.join(METRICS)}"
        )
    return Gate(text, metric, match["op"], float(match["number"]), bool(match["percent"]))
