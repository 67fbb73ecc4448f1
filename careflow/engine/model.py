"""Pydantic models of a rule file (format v1): the structure, exactly as the JSON Schema states it.

Structure only: references between sections, calendars, regexes and templates are checked by
``careflow.engine.checker``. ``tests/engine/test_schema_agreement.py`` proves that these models and
``schemas/rules.schema.json`` accept and reject the same documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PlainValidator,
    StringConstraints,
    field_validator,
    model_validator,
)

from careflow.engine.conditions import Condition
from careflow.engine.durations import DURATION_PATTERN
from careflow.engine.model_base import Duration, Name, Strict, Text, condition
from careflow.engine.topic_model import Topic
from careflow.engine.trend_model import TrendRule

WARN_PATTERN = DURATION_PATTERN[:-1].replace("^", "^(?:", 1) + r"|[1-9][0-9]?%)$"
WEBHOOK_PATTERN = r"^(https?://\S+|\$\{[A-Za-z_][A-Za-z0-9_]*\})$"
HOLIDAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
SHARE_PATTERN = r"^(100|[1-9]?[0-9])%$"
PRIVACY_URL_PATTERN = r"^https://\S+$"

Priority = Literal["low", "normal", "high", "urgent"]
PrivatizePolicy = Literal["required", "offer", "never"]
Event = Literal[
    "received",
    "customer.message",
    "agent.message",
    "window.warning",
    "window.internal",
    "window.published",
    "privatize.reminder",
    "privatize.given_up",
    "resolved",
    "reopened",
    "follow_up.reply",
    "follow_up.rating",
    "follow_up.silent",
    "closed",
]


class Brand(Strict):
    name: Text | None = None
    handle: Text | None = None


class CalendarSpec(Strict):
    timezone: Text
    hours: Annotated[
        dict[str, Text | Annotated[list[Text], Field(min_length=1)]], Field(min_length=1)
    ]
    holidays: list[Annotated[str, StringConstraints(pattern=HOLIDAY_PATTERN)]] = []


class Clock(Strict):
    internal: Duration
    published: Duration
    warn_before: Annotated[str, StringConstraints(pattern=WARN_PATTERN)] | None = None
    met_by: Literal["any", "human"] = "any"


class WindowsPolicy(Strict):
    calendar: Name = "always"
    acknowledge: Clock
    resolve: Clock
    next_reply: Clock | None = None


class Defaults(Strict):
    category: Text = "general"
    priority: Priority = "normal"
    queue: Text = "general"
    windows: Name
    privatize: PrivatizePolicy = "offer"
    segment: Text = "general"


class Target(Strict):
    webhook: Annotated[str, StringConstraints(pattern=WEBHOOK_PATTERN)]


class PrivatizeFlow(Strict):
    template: Name = "dm_invite"
    reminder_template: Name | None = None
    remind_after: Duration = "2h"
    give_up_after: Duration = "48h"


class MessengerTemplate(Strict):
    """``flow.follow_up.rating.messenger_template``: on Messenger, ask with Meta's own
    customer-feedback template (careflow.engine.messenger_feedback) while the page may send it."""

    privacy_url: Annotated[str, StringConstraints(pattern=PRIVACY_URL_PATTERN)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=65)] = "How did we do?"
    subtitle: Annotated[str, StringConstraints(min_length=1, max_length=80)] = (
        "Your rating helps us look after you better"
    )
    button: Annotated[str, StringConstraints(min_length=1, max_length=20)] = "Rate us"
    # Default: Meta's own question, in the customer's language.
    question: Annotated[str, StringConstraints(min_length=5, max_length=85)] | None = None
    score_option: Literal["one_to_five", "five_stars", "five_emojis"] = "five_stars"
    # The comment box's placeholder; false: no comment box.
    comment: Annotated[str, StringConstraints(min_length=1, max_length=65)] | Literal[False] = (
        "Anything else to tell us?"
    )


class Rating(Strict):
    """``flow.follow_up.rating``: the follow-up asks for a score, and the answer is read as one
    (careflow.engine.rating): digits, ``4/5``, stars, emoji and the words of ``languages``."""

    scale: Annotated[int, Field(ge=2, le=10)] = 5
    template: Name | None = (
        None  # the follow-up's text when it asks (default: flow.follow_up.template)
    )
    languages: Annotated[list[Text], Field(min_length=1)] = ["en"]
    words: dict[Text, Annotated[int, Field(ge=1, le=10)]] = {}
    messenger_template: MessengerTemplate | None = None


class FollowUpFlow(Strict):
    template: Name = "follow_up"
    after: Duration = "24h"
    wait: Duration = "72h"
    rating: Rating | None = None


class Flow(Strict):
    privatize: PrivatizeFlow = PrivatizeFlow()
    follow_up: FollowUpFlow = FollowUpFlow()
    long_replies: Literal["split", "private"] = "split"
    max_reply_parts: Annotated[int, Field(ge=1)] = 10
    # What templates call a customer whose name is not known (``author.name`` is never an id).
    unknown_name: Text = "there"


class SetValues(Strict):
    category: Text | None = None
    priority: Priority | None = None
    queue: Text | None = None
    windows: Name | None = None
    privatize: PrivatizePolicy | None = None
    segment: Text | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> SetValues:
        if not self.model_fields_set:
            raise ValueError(
                "set needs at least one of category, priority, queue, windows, privatize, segment"
            )
        return self


class Reply(Strict):
    template: Name
    private: bool = False


class Notify(Strict):
    target: Name
    template: Name | None = None


class Escalate(Strict):
    to: Literal["supervisor", "chat"]
    reason: Text | None = None


class Action(Strict):
    """One action; exactly one key is set."""

    drop: Text | None = None
    set: SetValues | None = None
    tag: Text | Annotated[list[Text], Field(min_length=1)] | None = None
    reply: Reply | None = None
    invite_private: Name | None = None
    notify: Name | Notify | None = None
    escalate: Escalate | None = None
    reopen: Text | None = None
    close: Text | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        if len(self.model_fields_set) != 1:
            raise ValueError("an action is a mapping with exactly one key, e.g. {drop: spam}")
        return self

    @property
    def kind(self) -> str:
        """The action's key: drop, set, tag, reply, …"""
        return next(iter(self.model_fields_set))


def _parse_when(raw: Any) -> Condition | None:
    if raw is None:
        raise ValueError("when must be a condition mapping; omit it to match every time")
    return condition(raw)


class Rule(Strict):
    name: Name
    description: str | None = None
    on: Event | Annotated[list[Event], Field(min_length=1)]
    when: Annotated[Condition | None, PlainValidator(_parse_when)] = None
    do: Annotated[list[Action], Field(min_length=1)]
    stop: bool = False

    @property
    def events(self) -> tuple[str, ...]:
        """The events this rule runs on, as a tuple."""
        return (self.on,) if isinstance(self.on, str) else tuple(self.on)


ReasonCodes = Annotated[list[Name], Field(min_length=1)]


class Reasons(Strict):
    """The reason codes an action must pick from (a list given) or may name freely (none)."""

    resolve: ReasonCodes | None = None
    reopen: ReasonCodes | None = None
    escalate: ReasonCodes | None = None
    assign: ReasonCodes | None = None

    def codes(self, action: str) -> list[str] | None:
        """The codes ``action`` must pick from, or None when any (or none) will do."""
        found: list[str] | None = getattr(self, action, None)
        return found


class Team(Strict):
    """One team of agents (``teams:``), for ``careflow report --by team``; an agent may be in
    several teams."""

    agents: Annotated[list[Text], Field(min_length=1)]
    description: str | None = None


class QaCriterion(Strict):
    """One rubric criterion: scored from 1 to ``scale``; the description says what a reviewer
    looks for."""

    scale: Annotated[int, Field(ge=2, le=10)] = 5
    description: Text


class QaRubric(Strict):
    """What reviewers score, and its version, recorded with every review."""

    version: Text
    criteria: Annotated[dict[Name, QaCriterion], Field(min_length=1)]


class QaSampling(Strict):
    """Which closed inquiries go to review: a share of every agent's, and every one matching
    ``when`` (tested as on the ``closed`` event)."""

    share: Annotated[str, StringConstraints(pattern=SHARE_PATTERN)] = "0%"
    when: Annotated[Condition | None, PlainValidator(_parse_when)] = None


class Qa(Strict):
    """``qa:``: quality reviews of closed inquiries (``careflow qa``)."""

    rubric: QaRubric
    sampling: QaSampling = QaSampling()
    dispute_within: Duration = "7d"


class RuleFile(Strict):
    version: Literal[1]
    name: Name
    description: str | None = None
    brand: Brand = Brand()
    calendars: dict[Name, CalendarSpec] = {}
    windows: Annotated[dict[Name, WindowsPolicy], Field(min_length=1)]
    defaults: Defaults
    targets: dict[Name, Target] = {}
    templates: dict[Name, Text] = {}
    flow: Flow = Flow()
    topics: dict[Name, Topic] = {}
    trends: list[TrendRule] = []
    reasons: Reasons = Reasons()
    rules: list[Rule]
    teams: dict[Name, Team] = {}
    qa: Qa | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_integer(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("version must be 1")
        return value

    @field_validator("calendars")
    @classmethod
    def _always_is_builtin(cls, value: dict[str, CalendarSpec]) -> dict[str, CalendarSpec]:
        if "always" in value:
            raise ValueError("'always' is the built-in round-the-clock calendar; pick another name")
        return value
