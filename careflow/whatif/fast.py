"""The fast path: each inquiry's decisions through the rule engine alone, no workflow.

The ``received`` decision (dropped and why, category, priority, queue, windows, privatize, tags,
its replies, notifications and escalations), then the acknowledge clock against when a person
first answered in the history: an automated reply meets it at once (unless the policy says
``met_by: human``), the ``window.internal`` rules run when the internal target passes unmet (a
safety-net reply meets it there), the ``window.published`` rules when the published window does.
Later clocks, warnings and customer-message rules need the workflow: ``--full``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from careflow.engine.ruleset import Decision, Ruleset, TakenAction
from careflow.whatif.baseline import NoBaseline, baseline_of, used
from careflow.whatif.compare import Pair, build_report
from careflow.whatif.outcome import Outcome, verdict_of
from careflow.whatif.recorded import Recorded
from careflow.whatif.report import Report, Skipped
from careflow.whatif.topics import DEFAULT_SEGMENT, topics_of

ANSWERS = ("reply", "invite_private")  # actions that answer the customer
JUST_AFTER = timedelta(microseconds=1)
COUNTED = {"reply": "auto_replies", "notify": "notifications", "escalate": "escalations"}


def _setter(actions: list[TakenAction], name: str) -> str | None:
    """The last rule whose ``set`` gave ``name`` its value."""
    found = None
    for action in actions:
        if action.kind == "set" and name in action.spec:
            found = action.rule
    return found


def _tally(outcome: Outcome, decision: Decision) -> None:
    for action in decision.actions:
        counted = COUNTED.get(action.kind)
        if counted is None:
            continue
        outcome.counts[counted] += 1
        names = outcome.rules.get(counted, "")
        if action.rule not in names.split(","):
            outcome.rules[counted] = f"{names},{action.rule}" if names else action.rule


def _answer(decision: Decision) -> str | None:
    """The first rule whose action answered the customer, if any did."""
    return next((a.rule for a in decision.actions if a.kind in ANSWERS), None)


def decide(ruleset: Ruleset, recorded: Recorded) -> Outcome:
    """What ``ruleset`` would have decided for ``recorded``, by the engine alone."""
    inquiry = recorded.input.inquiry
    received = ruleset.evaluate("received", inquiry, bounded=True)
    if received.dropped:
        return Outcome(
            dropped=True,
            drop_reason=received.drop_reason,
            rules={"dropped": received.fired[-1]},
        )
    values = received.values
    outcome = Outcome(
        dropped=False,
        values={
            "category": values.category,
            "priority": values.priority,
            "queue": values.queue,
            "windows": values.windows,
            "privatize": values.privatize,
            "tags": sorted(values.tags),
            "segment": values.segment,
            "topics": topics_of(ruleset, recorded, values),
        },
        counts=dict.fromkeys(COUNTED.values(), 0),
        rules={"dropped": ""},
    )
    for name in ("category", "priority", "queue", "windows", "privatize", "segment"):
        rule = _setter(received.actions, name)
        if rule is not None:
            outcome.rules[name] = rule
    outcome.rules.setdefault("segment", DEFAULT_SEGMENT)
    tagged = [a.rule for a in received.actions if a.kind == "tag"]
    if tagged:
        outcome.rules["tags"] = ",".join(dict.fromkeys(tagged))
    _tally(outcome, received)
    _acknowledge_clock(ruleset, recorded, received, outcome)
    return outcome


def _acknowledge_clock(
    ruleset: Ruleset, recorded: Recorded, received: Decision, outcome: Outcome
) -> None:
    """The acknowledge clock's verdict and the window rules it runs on the way."""
    inquiry, values = recorded.input.inquiry, received.values
    due = ruleset.deadlines(values.windows, "acknowledge", inquiry.created_at)
    if due is None:
        return
    automated_counts = ruleset.policy(values.windows).acknowledge.met_by == "any"
    start, horizon = recorded.started_at, recorded.started_at + recorded.ended
    first = recorded.first_response()
    human: datetime | None = start + first if first is not None else None
    met_at, by = (
        (start, _answer(received)) if automated_counts and _answer(received) else (None, None)
    )
    if met_at is None and human is not None and human <= due.internal_due:
        met_at = human
    extra = {"clock": "acknowledge", "step": "acknowledge", "reopens": 0}
    for event, when in (
        ("window.internal", due.internal_due),
        ("window.published", due.published_due),
    ):
        if met_at is not None and met_at <= when:
            continue
        if (human is not None and human <= when) or horizon < when:
            continue
        decision = ruleset.evaluate(event, inquiry, values=values, extra=extra, bounded=True)
        _tally(outcome, decision)
        if automated_counts and met_at is None and _answer(decision):
            # The rules ran because the deadline passed: the clock is met just after it.
            met_at, by = when + JUST_AFTER, _answer(decision)
    if met_at is None and human is not None:
        met_at = human
    outcome.clocks["acknowledge"] = verdict_of(
        met_at is not None, met_at, due.internal_due, due.published_due, horizon
    )
    outcome.rules["clock.acknowledge"] = (
        by or _setter(received.actions, "windows") or f"windows.{values.windows}"
    )


def run_fast(rules: Ruleset, baseline: Ruleset | None, inquiries: list[Recorded]) -> Report:
    """The fast path over ``inquiries``: each decided by its baseline and by ``rules``."""
    pairs: list[Pair] = []
    skipped: list[Skipped] = []
    for recorded in inquiries:
        try:
            before_rules = baseline_of(recorded, baseline)
            pairs.append(Pair(recorded, decide(before_rules, recorded), decide(rules, recorded)))
        except NoBaseline as error:
            skipped.append(Skipped(workflow_id=recorded.workflow_id, reason=str(error)))
        except Exception as error:  # the engine never raises by design; a bug skips one inquiry
            reason = f"the rule engine failed: {type(error).__name__}: {error}"
            skipped.append(Skipped(workflow_id=recorded.workflow_id, reason=reason))
    return build_report(
        "fast",
        used(rules),
        used(baseline) if baseline else "history",
        pairs,
        skipped,
        defined_topics(rules, baseline),
    )


def defined_topics(rules: Ruleset, baseline: Ruleset | None) -> list[str]:
    """The topics the new file defines, then those only the baseline file does."""
    names = [name for name, _ in rules.topics]
    return names + [n for n, _ in (baseline.topics if baseline else ()) if n not in names]
