"""Topics and segments under two rule files: what an edit to ``topics:`` or a segment rule moves.

Topics are the engine's, on both paths, as the workflow tags them (workflows/topics.py): the post
and each later customer message, tested with the values the ``received`` rules left. They do
not depend on timing, so the full path takes them from the engine too (a re-run on the test
server is not started by the intake, so it keeps no topics of its own).
"""

from __future__ import annotations

from collections.abc import Sequence

from careflow.engine.ruleset import Ruleset, Values
from careflow.whatif.outcome import Outcome
from careflow.whatif.recorded import Recorded
from careflow.whatif.report import EXAMPLES, SegmentCount, TopicCount

DEFAULT_SEGMENT = "defaults.segment"  # the section named when no rule set the segment

# One inquiry's two outcomes, by its workflow id.
Sides = tuple[str, Outcome, Outcome]


def topics_of(ruleset: Ruleset, recorded: Recorded, values: Values) -> list[str]:
    """Every topic the post or a later customer message matches, sorted (a set, compared)."""
    inquiry = recorded.input.inquiry
    found = set(ruleset.topics_of(inquiry, values))
    for act in recorded.acts:
        text = act.payload.get("text")
        if act.kind == "signal" and act.name == "customer_message" and isinstance(text, str):
            found.update(ruleset.topics_of(inquiry, values, text))
    return sorted(found)


def topics_rule(before: object, after: object) -> str | None:
    """The topics an inquiry gained or lost, as the rule file's entries (``topics.<name>``)."""
    moved = _names(before) ^ _names(after)
    return ",".join(f"topics.{name}" for name in sorted(moved)) or None


def _names(value: object) -> set[str]:
    return {str(name) for name in value} if isinstance(value, list) else set()


def topic_counts(sides: Sequence[Sides], defined: Sequence[str]) -> list[TopicCount]:
    """Per topic (those ``defined`` in either file, then any other matched), how many kept
    inquiries matched it before and after, and which gained or lost it."""
    names = dict.fromkeys(defined)
    for _, before, after in sides:
        names.update(dict.fromkeys(sorted(_names(before.values.get("topics")))))
        names.update(dict.fromkeys(sorted(_names(after.values.get("topics")))))
    counts = []
    for name in names:
        had = [wid for wid, before, _ in sides if _has(before, name)]
        has = [wid for wid, _, after in sides if _has(after, name)]
        gained = [wid for wid, before, after in sides if _has(after, name) > _has(before, name)]
        lost = [wid for wid, before, after in sides if _has(before, name) > _has(after, name)]
        counts.append(
            TopicCount(
                topic=name,
                before=len(had),
                after=len(has),
                gained=len(gained),
                lost=len(lost),
                examples_gained=gained[:EXAMPLES],
                examples_lost=lost[:EXAMPLES],
            )
        )
    return counts


def _has(outcome: Outcome, topic: str) -> bool:
    return not outcome.dropped and topic in _names(outcome.values.get("topics"))


def segment_counts(sides: Sequence[Sides]) -> list[SegmentCount]:
    """Kept inquiries per segment before and after, in order of first appearance."""
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    for _, old, new in sides:
        for outcome, tally in ((old, before), (new, after)):
            segment = outcome.values.get("segment")
            if not outcome.dropped and isinstance(segment, str):
                tally[segment] = tally.get(segment, 0) + 1
    names = dict.fromkeys([*before, *after])
    return [SegmentCount(segment=s, before=before.get(s, 0), after=after.get(s, 0)) for s in names]
