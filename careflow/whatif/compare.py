"""Two outcomes per inquiry (before, after) as the report: totals, changes, drops, moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from careflow.whatif.outcome import COUNT_FIELDS, Outcome
from careflow.whatif.recorded import Recorded
from careflow.whatif.report import (
    EXAMPLES,
    BeforeAfter,
    Change,
    Diverged,
    Drop,
    Moved,
    Report,
    RulesUsed,
    Skipped,
    Totals,
)
from careflow.whatif.topics import segment_counts, topic_counts, topics_rule

MOVED_FIELDS = ("category", "queue", "priority", "windows", "privatize", "segment")


@dataclass(frozen=True)
class Pair:
    """One inquiry run both ways."""

    recorded: Recorded
    before: Outcome
    after: Outcome


def totals(outcomes: Sequence[Outcome]) -> Totals:
    return Totals(
        dropped=sum(o.dropped for o in outcomes),
        auto_replies=sum(o.counts.get("auto_replies", 0) for o in outcomes),
        notifications=sum(o.counts.get("notifications", 0) for o in outcomes),
        escalations=sum(o.counts.get("escalations", 0) for o in outcomes),
        breaches_published=sum(o.breaches_published for o in outcomes),
        within_internal=sum(o.within_internal for o in outcomes),
        clocks=sum(len(o.clocks) for o in outcomes),
        diverged=sum(o.diverged is not None for o in outcomes),
    )


def _rule(field: str, before: Outcome, after: Outcome) -> str | None:
    """Who is responsible for a change of ``field``: the side whose rules made the difference."""
    if field == "dropped":
        side = after if after.dropped else before
        return side.rules.get("dropped") or None
    if field == "topics":
        return topics_rule(before.values.get("topics"), after.values.get("topics"))
    if field in COUNT_FIELDS:
        side = after if after.counts.get(field, 0) >= before.counts.get(field, 0) else before
        return side.rules.get(field) or None
    return after.rules.get(field) or before.rules.get(field) or None


def changes_of(pair: Pair) -> list[Change]:
    """One change per field whose value differs (a drop hides the rest of the fields)."""
    before, after = pair.before.fields(), pair.after.fields()
    names = list(dict.fromkeys([*before, *after]))
    if pair.before.dropped or pair.after.dropped:
        names = ["dropped"]
    return [
        Change(
            workflow_id=pair.recorded.workflow_id,
            run_id=pair.recorded.first_run_id,
            field=name,
            before=before.get(name),
            after=after.get(name),
            rule=_rule(name, pair.before, pair.after),
        )
        for name in names
        if before.get(name) != after.get(name)
    ]


def _drop(pair: Pair, side: Outcome) -> Drop:
    return Drop(
        workflow_id=pair.recorded.workflow_id,
        rule=side.rules.get("dropped") or None,
        reason=side.drop_reason,
        text=pair.recorded.text,
    )


def _moved(changes: list[Change]) -> list[Moved]:
    groups: dict[tuple[str, str, str], list[Change]] = {}
    for change in changes:
        if change.field in MOVED_FIELDS:
            key = (change.field, repr(change.before), repr(change.after))
            groups.setdefault(key, []).append(change)
    moved = [
        Moved(
            field=group[0].field,
            before=group[0].before,
            after=group[0].after,
            count=len(group),
            rules=sorted({c.rule for c in group if c.rule}),
            examples=[c.workflow_id for c in group[:EXAMPLES]],
        )
        for group in groups.values()
    ]
    return sorted(moved, key=lambda m: (MOVED_FIELDS.index(m.field), -m.count, repr(m.before)))


def build_report(
    path: Literal["fast", "full"],
    rules: RulesUsed,
    baseline: RulesUsed | Literal["history"],
    pairs: list[Pair],
    skipped: list[Skipped],
    topics: Sequence[str] = (),
) -> Report:
    """The report of ``pairs`` (in input order, which is start time then id); ``topics`` names
    the topics the rule files define, counted even where nothing matches them."""
    changes = [change for pair in pairs for change in changes_of(pair)]
    gained = [_drop(p, p.after) for p in pairs if p.after.dropped and not p.before.dropped]
    lost = [_drop(p, p.before) for p in pairs if p.before.dropped and not p.after.dropped]
    sides = [(p.recorded.workflow_id, p.before, p.after) for p in pairs]
    diverged = [
        Diverged(workflow_id=p.recorded.workflow_id, side=side, reason=outcome.diverged)
        for p in pairs
        for side, outcome in (("before", p.before), ("after", p.after))
        if outcome.diverged is not None
    ]
    return Report(
        path=path,
        rules=rules,
        baseline=baseline,
        inquiries=len(pairs),
        totals=BeforeAfter(
            before=totals([p.before for p in pairs]), after=totals([p.after for p in pairs])
        ),
        changes=changes,
        drops={"gained": gained, "lost": lost},
        moved=_moved(changes),
        topics=topic_counts(sides, topics),
        segments=segment_counts(sides),
        diverged=diverged,
        skipped=skipped,
    )


def changed_share(count: int, report: Report) -> float:
    """``count`` as a percentage of the inquiries run."""
    return 100.0 * count / report.inquiries if report.inquiries else 0.0


def as_plain(value: Any) -> Any:
    """A change's value as the terminal shows it."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return value
