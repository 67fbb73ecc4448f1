"""What rules can react to (events) and what conditions can test (fields), in one table.

The JSON Schema's condition section, the checker, the evaluator and docs/rules.md all follow this
registry; ``tests/engine/test_schema_agreement.py`` proves the schema lists the same fields and operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    """How a field's values compare."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"  # a string from a fixed list
    LIST = "list"  # a list of strings, e.g. tags


EVENTS: dict[str, str] = {
    "received": "a new inquiry arrives; also run at intake, where a `drop` stops it (firehose filter)",
    "customer.message": "the customer writes again (publicly or privately) in the same conversation",
    "agent.message": "an agent replies, publicly or privately",
    "window.warning": "a clock reaches its `warn_before` point before the published window",
    "window.internal": "a clock passes its internal target without being met",
    "window.published": "a clock passes its published window without being met (a breach)",
    "privatize.reminder": "the customer has not written privately within `flow.privatize.remind_after`",
    "privatize.given_up": "the customer has not written privately within `flow.privatize.give_up_after`",
    "resolved": "an agent resolves the inquiry with a resolution code",
    "reopened": "the inquiry goes back to resolve (follow-up reply, customer or agent reopen)",
    "follow_up.reply": "the customer answers the close-the-loop follow-up",
    "follow_up.rating": "the customer answers the follow-up's rating question with a score "
    "(`flow.follow_up.rating`)",
    "follow_up.silent": "no answer to the follow-up within `flow.follow_up.wait`",
    "closed": "the inquiry closes; the last chance to notify or tag",
}

MESSAGE_EVENTS = frozenset(
    {"customer.message", "agent.message", "follow_up.reply", "follow_up.rating"}
)
WINDOW_EVENTS = frozenset({"window.warning", "window.internal", "window.published"})
AFTER_RECEIVED = frozenset(EVENTS) - {"received"}

OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.STRING: ("eq", "ne", "in", "not_in", "contains", "contains_any", "matches", "exists"),
    FieldType.NUMBER: ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists"),
    FieldType.BOOLEAN: ("eq", "ne", "exists"),
    FieldType.CHOICE: ("eq", "ne", "in", "not_in", "exists"),
    FieldType.LIST: ("contains", "contains_any", "exists"),
}
ORDER_OPERATORS = ("gt", "gte", "lt", "lte")

PRIORITIES = ("low", "normal", "high", "urgent")
PRIVATIZE_POLICIES = ("required", "offer", "never")
STEPS = ("acknowledge", "privatize", "resolve", "follow_up", "closed")
CLOCKS = ("acknowledge", "resolve", "next_reply")
KINDS = ("public", "private")
SENSITIVE_KINDS = ("email", "order_number", "card_number", "phone")


@dataclass(frozen=True)
class FieldSpec:
    """One testable field: its type, the events where it has a value, and its meaning."""

    name: str
    type: FieldType
    description: str
    events: frozenset[str] = frozenset(EVENTS)
    choices: tuple[str, ...] = ()
    ordered: bool = False  # CHOICE fields whose choices are listed lowest first (priority)

    @property
    def operators(self) -> tuple[str, ...]:
        """The operators this field accepts, in documentation order."""
        base = OPERATORS[self.type]
        if self.ordered:
            return base[:-1] + ORDER_OPERATORS + base[-1:]
        return base


_FIELDS = (
    FieldSpec("text", FieldType.STRING, "text of the post that opened the inquiry"),
    FieldSpec(
        "channel", FieldType.STRING, "platform the inquiry came from: x, facebook, instagram, …"
    ),
    FieldSpec("kind", FieldType.CHOICE, "public post or private message", choices=KINDS),
    FieldSpec("id", FieldType.STRING, "platform id of the first post"),
    FieldSpec("conversation_id", FieldType.STRING, "platform id of the conversation"),
    FieldSpec("url", FieldType.STRING, "link to the post"),
    FieldSpec("author.id", FieldType.STRING, "platform id of the customer"),
    FieldSpec("author.handle", FieldType.STRING, "the customer's handle, without @"),
    FieldSpec("author.name", FieldType.STRING, "the customer's display name"),
    FieldSpec(
        "author.followers", FieldType.NUMBER, "how many accounts follow the customer (reach)"
    ),
    FieldSpec("author.verified", FieldType.BOOLEAN, "whether the platform verified the customer"),
    FieldSpec(
        "sensitive",
        FieldType.LIST,
        "kinds of personal data seen in the post text: email, order_number, card_number, phone",
        choices=SENSITIVE_KINDS,
    ),
    FieldSpec("category", FieldType.STRING, "category set so far (defaults.category if none)"),
    FieldSpec("segment", FieldType.STRING, "segment set so far (defaults.segment if none)"),
    FieldSpec(
        "priority", FieldType.CHOICE, "priority set so far", choices=PRIORITIES, ordered=True
    ),
    FieldSpec("queue", FieldType.STRING, "work queue set so far"),
    FieldSpec("windows", FieldType.STRING, "name of the windows policy set so far"),
    FieldSpec(
        "privatize", FieldType.CHOICE, "privatize policy set so far", choices=PRIVATIZE_POLICIES
    ),
    FieldSpec("tags", FieldType.LIST, "tags added so far"),
    FieldSpec("step", FieldType.CHOICE, "the step the inquiry is in", choices=STEPS),
    FieldSpec(
        "clock",
        FieldType.CHOICE,
        "which clock a window event is about",
        events=WINDOW_EVENTS,
        choices=CLOCKS,
    ),
    FieldSpec("message.text", FieldType.STRING, "text of the new message", events=MESSAGE_EVENTS),
    FieldSpec(
        "message.private",
        FieldType.BOOLEAN,
        "whether the new message was sent privately",
        events=MESSAGE_EVENTS,
    ),
    FieldSpec(
        "message.sensitive",
        FieldType.LIST,
        "kinds of personal data seen in the new message",
        events=MESSAGE_EVENTS,
        choices=SENSITIVE_KINDS,
    ),
    FieldSpec(
        "agent.name", FieldType.STRING, "the agent assigned or acting", events=AFTER_RECEIVED
    ),
    FieldSpec(
        "resolution.code",
        FieldType.STRING,
        "the code the inquiry was resolved with",
        events=frozenset(
            {"resolved", "follow_up.reply", "follow_up.rating", "follow_up.silent", "closed"}
        ),
    ),
    FieldSpec(
        "reopens",
        FieldType.NUMBER,
        "how many times the inquiry was reopened",
        events=AFTER_RECEIVED,
    ),
    FieldSpec(
        "rating.score",
        FieldType.NUMBER,
        "the customer's rating, on the scale of flow.follow_up.rating (on closed: the latest, "
        "missing when none)",
        events=frozenset({"follow_up.rating", "closed"}),
    ),
    FieldSpec(
        "rating.comment",
        FieldType.STRING,
        "what the customer wrote beside the rating (missing when they wrote only the score)",
        events=frozenset({"follow_up.rating"}),
    ),
)

FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _FIELDS}
LOGIC_KEYS = ("all", "any", "not")
