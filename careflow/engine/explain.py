"""What ``careflow rules explain`` reports: one event's decision, its deadlines and texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from careflow.engine.post import Inquiry
from careflow.engine.ruleset import CLOCK_NAMES, Decision, Ruleset, TakenAction
from careflow.engine.templates import TemplateRenderError, render_template

# The step an inquiry is usually in when an event happens, unless --field step=… says otherwise.
_STEP_OF_EVENT = {
    "received": "acknowledge",
    "window": "acknowledge",
    "privatize": "privatize",
    "follow_up": "follow_up",
    "closed": "closed",
}


def _template_of(action: TakenAction) -> str | None:
    if action.kind == "reply":
        return str(action.spec["template"])
    if action.kind == "invite_private":
        return str(action.spec)
    if action.kind == "notify" and isinstance(action.spec, dict):
        return action.spec.get("template")
    return None


def explain(
    ruleset: Ruleset,
    inquiry: Inquiry,
    event: str = "received",
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The explain report as plain JSON-ready data (the ``--json`` output).

    ``fields`` supplies what the event carries (``message.text``, ``clock``, ``step``, …) so an ops
    engineer can try rules on events other than ``received``.
    """
    values = None
    extra: dict[str, Any] = {"step": _STEP_OF_EVENT.get(event.split(".")[0], "resolve")}
    if event != "received":
        received = ruleset.evaluate("received", inquiry, bounded=True)
        values = received.values
        extra["reopens"] = 0
    extra.update(fields or {})
    decision: Decision = ruleset.evaluate(event, inquiry, values=values, extra=extra, bounded=True)
    values = decision.values
    variables = ruleset.template_variables(inquiry, values)
    actions: list[dict[str, Any]] = []
    for action in decision.actions:
        entry: dict[str, Any] = {"rule": action.rule, action.kind: action.spec}
        template = _template_of(action)
        if template is not None:
            try:
                entry["text"] = render_template(ruleset.rule_file.templates[template], variables)
            except TemplateRenderError as error:
                entry["text_error"] = str(error)
        actions.append(entry)
    deadlines: dict[str, Any] | None = None
    if not decision.dropped:
        deadlines = {}
        for clock in CLOCK_NAMES[:2]:
            due = ruleset.deadlines(values.windows, clock, inquiry.created_at)
            if due is not None:
                deadlines[clock] = {
                    "internal": due.internal_due.isoformat(),
                    "published": due.published_due.isoformat(),
                }
    return {
        "ruleset": {"name": ruleset.name, "digest": ruleset.digest},
        "inquiry": inquiry.id,
        "event": event,
        "dropped": decision.dropped,
        "drop_reason": decision.drop_reason,
        "category": values.category,
        "priority": values.priority,
        "queue": values.queue,
        "privatize": values.privatize,
        "windows": values.windows,
        "calendar": ruleset.policy(values.windows).calendar,
        "tags": list(values.tags),
        "segment": values.segment,
        "topics": ruleset.explain_topics(inquiry, values),
        "fired": decision.fired,
        "why": decision.why,
        "actions": actions,
        "deadlines": deadlines,
    }


def format_explanation(report: dict[str, Any]) -> str:
    """The human-readable explain output."""
    lines = [
        f"inquiry {report['inquiry']}  ·  ruleset {report['ruleset']['name']} "
        f"(sha256 {report['ruleset']['digest'][:12]})",
    ]
    if report["dropped"]:
        lines.append(f"DROPPED: {report['drop_reason']} — no workflow would start")
    else:
        lines.append(
            f"category {report['category']}  ·  priority {report['priority']}  ·  "
            f"queue {report['queue']}  ·  privatize {report['privatize']}  ·  "
            f"windows {report['windows']} ({report['calendar']})"
        )
        if report["tags"]:
            lines.append(f"tags: {', '.join(report['tags'])}")
        lines.append(f"segment {report['segment']}")
        for topic, reasons in report["topics"].items():
            lines.append(f"topic {topic}: because {'; '.join(reasons)}")
    lines.append("")
    if not report["fired"]:
        lines.append("no rule fired: defaults apply")
    for number, name in enumerate(report["fired"], start=1):
        lines.append(f"{number}. {name}")
        lines.extend(f"     because {reason}" for reason in report["why"][name])
        for action in report["actions"]:
            if action["rule"] != name:
                continue
            kind = next(k for k in action if k not in ("rule", "text", "text_error"))
            lines.append(f"     → {kind}: {action[kind]}")
            if "text" in action:
                lines.append(f'       "{action["text"]}"')
            if "text_error" in action:
                lines.append(f"       ! {action['text_error']}")
    if report["deadlines"]:
        lines.append("")
        lines.append("deadlines:")
        for clock, due in report["deadlines"].items():
            lines.append(f"  {clock:<12} internal {due['internal']}   published {due['published']}")
    return "\n".join(lines)
