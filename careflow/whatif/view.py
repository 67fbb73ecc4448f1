"""The what-if report in a terminal (rich): totals, drops, moves, other changes, divergences."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from careflow.terminal import excerpt
from careflow.terminal import table as new_table
from careflow.whatif.compare import MOVED_FIELDS, as_plain
from careflow.whatif.report import EXAMPLES, Change, Drop, Report, RulesUsed, Totals

ROWS = (
    ("dropped", "dropped"),
    ("auto_replies", "automated replies"),
    ("notifications", "notifications"),
    ("escalations", "escalations"),
    ("breaches_published", "published windows breached"),
    ("within_internal", "clocks met within the internal target"),
    ("diverged", "diverged (an agent action refused)"),
)


def _rules(used: RulesUsed | str) -> str:
    if isinstance(used, str):
        return "the rules each inquiry ran with"
    return f"{escape(used.name)} ({escape(used.file)}, sha256 {used.digest[:12]})"


def _share(count: int, totals: Totals) -> str:
    return f" ({100 * count / totals.clocks:.0f}%)" if totals.clocks else ""


def _delta(before: int, after: int) -> str:
    if before == after:
        return "="
    style = "green" if after < before else "red"
    return f"[{style}]{after - before:+d}[/]"


def _totals(report: Report) -> Table:
    table = new_table("", "before", "after", "change")
    before, after = report.totals.before, report.totals.after
    for key, label in ROWS:
        b, a = getattr(before, key), getattr(after, key)
        if key == "within_internal":
            table.add_row(label, f"{b}{_share(b, before)}", f"{a}{_share(a, after)}", "")
        else:
            table.add_row(label, str(b), str(a), _delta(b, a))
    return table


def _drops(title: str, drops: list[Drop]) -> list[RenderableType]:
    if not drops:
        return []
    table = new_table("rule", "inquiry", "text")
    for drop in drops[: EXAMPLES * 4]:
        table.add_row(
            escape(drop.rule or "-"), escape(drop.workflow_id), escape(excerpt(drop.text))
        )
    more = len(drops) - EXAMPLES * 4
    return [
        "",
        f"[bold]{title}: {len(drops)}[/]",
        table,
        *([f"… and {more} more (--json lists them all)"] if more > 0 else []),
    ]


def _others(changes: list[Change]) -> Table | None:
    """Changes other than drops and moves, grouped by field."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        if change.field not in ("dropped", "topics") and change.field not in MOVED_FIELDS:
            groups.setdefault(change.field, []).append(change)
    if not groups:
        return None
    table = new_table("field", "inquiries", "rules", "examples")
    for field, group in groups.items():
        rules = sorted({c.rule for c in group if c.rule})
        examples = ", ".join(c.workflow_id for c in group[:EXAMPLES])
        table.add_row(field, str(len(group)), escape(", ".join(rules)), escape(examples))
    return table


def _topics(report: Report) -> list[RenderableType]:
    """Per topic, the inquiries matching before and after; then each inquiry whose topics moved."""
    if not report.topics:
        return []
    table = new_table("topic", "before", "after", "change", "gained", "lost")
    for topic in report.topics:
        table.add_row(
            escape(topic.topic),
            str(topic.before),
            str(topic.after),
            _delta(topic.before, topic.after),
            escape(_examples(topic.gained, topic.examples_gained)),
            escape(_examples(topic.lost, topic.examples_lost)),
        )
    parts: list[RenderableType] = ["", "[bold]Topics[/] (inquiries not dropped)", table]
    moved = [c for c in report.changes if c.field == "topics"]
    for change in moved[: EXAMPLES * 4]:
        parts.append(
            f"  {escape(change.workflow_id)}: {escape(str(as_plain(change.before)))} → "
            f"{escape(str(as_plain(change.after)))}"
        )
    if len(moved) > EXAMPLES * 4:
        parts.append(f"  … and {len(moved) - EXAMPLES * 4} more (--json lists them all)")
    return parts


def _examples(count: int, examples: list[str]) -> str:
    if not count:
        return "-"
    more = f", … {count - len(examples)} more" if count > len(examples) else ""
    return f"{count}: {', '.join(examples)}{more}"


def segments_shown(report: Report) -> bool:
    """Segments are worth a table when the rule files give more than one, or an edit moves one."""
    return len(report.segments) > 1 or any(c.field == "segment" for c in report.changes)


def _segments(report: Report) -> list[RenderableType]:
    if not segments_shown(report):
        return []
    table = new_table("segment", "before", "after", "change")
    for segment in report.segments:
        table.add_row(
            escape(segment.segment),
            str(segment.before),
            str(segment.after),
            _delta(segment.before, segment.after),
        )
    return ["", "[bold]Segments[/] (inquiries not dropped)", table]


def report_view(report: Report) -> RenderableType:
    """The whole report for a terminal."""
    path = "the full path (workflows)" if report.path == "full" else "the fast path (engine)"
    parts: list[RenderableType] = [
        f"[bold]what-if over {report.inquiries} inquiries[/], {path}",
        f"new rules: {_rules(report.rules)}",
        f"compared with: {_rules(report.baseline)}",
        "",
        _totals(report),
    ]
    parts += _drops("Newly dropped", report.drops["gained"])
    parts += _drops("No longer dropped", report.drops["lost"])
    if report.moved:
        moved = new_table("field", "before", "after", "inquiries", "rules", "examples")
        for move in report.moved:
            moved.add_row(
                move.field,
                escape(str(as_plain(move.before))),
                escape(str(as_plain(move.after))),
                str(move.count),
                escape(", ".join(move.rules)),
                escape(", ".join(move.examples)),
            )
        parts += ["", "[bold]Moved[/]", moved]
    parts += _topics(report)
    parts += _segments(report)
    others = _others(report.changes)
    if others is not None:
        parts += ["", "[bold]Other changes[/]", others]
    for diverged in report.diverged:
        parts.append(
            f"[yellow]diverged[/] {escape(diverged.workflow_id)} ({diverged.side}): "
            f"{escape(diverged.reason)}"
        )
    for skipped in report.skipped:
        parts.append(f"[yellow]skipped[/] {escape(skipped.workflow_id)}: {escape(skipped.reason)}")
    if report.changes:
        parts += ["", "Open an example with `careflow status ID` or `careflow audit report ID`."]
    else:
        parts += ["", "[green]No inquiry would change.[/]"]
    return Group(*parts)
