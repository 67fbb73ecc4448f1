"""The inquiry workflow's state, and the status view built from it.

The state is one pydantic model so that continue-as-new carries all of it and replay rebuilds it
exactly. ``InquiryStatus`` is what ``careflow status --json`` prints: the contract agents, the API
and auditors read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from activities.types import RulesSource
from careflow.engine.messenger_feedback import FeedbackAnswer
from careflow.engine.post import Attachment, Inquiry
from careflow.engine.ruleset import Values
from workflows import engine_version
from workflows.actors import Actor
from workflows.clocks import ClockState, next_deadline
from workflows.rating import Rating

Step = Literal["acknowledge", "privatize", "resolve", "follow_up", "closed"]
ShownVerdict = Literal["pending", "met", "missed"]
T = TypeVar("T")


class ValuesState(BaseModel):
    """What the rules decided so far (category, priority, …); mirrors ``Values``."""

    category: str
    priority: str
    queue: str
    windows: str
    privatize: str
    tags: list[str] = []
    segment: str = "general"  # insights: the customer's segment (rules' ``set: {segment}``)

    @classmethod
    def of(cls, values: Values) -> ValuesState:
        return cls(
            category=values.category,
            priority=values.priority,
            queue=values.queue,
            windows=values.windows,
            privatize=values.privatize,
            tags=list(values.tags),
            segment=values.segment,
        )

    def values(self) -> Values:
        return Values(
            category=self.category,
            priority=self.priority,
            queue=self.queue,
            windows=self.windows,
            privatize=self.privatize,
            tags=tuple(self.tags),
            segment=self.segment,
        )


class CustomerMessage(BaseModel):
    """The ``customer_message`` signal: the customer wrote again in the same conversation.

    ``id`` is the platform's message id: a redelivered webhook carries the same id and is
    recorded once.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    private: bool = False
    at: AwareDatetime
    # Defaulted, so messages recorded before follow-ups kept their media still decode.
    attachments: list[Attachment] = []
    # A rating the platform gave in structured form (Messenger's customer-feedback template):
    # read as it is, not from ``text`` (since the "feedback-messenger-template" patch).
    rating: FeedbackAnswer | None = None


class MessageChange(BaseModel):
    """The ``message_change`` signal: the customer edited (``text``: the new one) or withdrew
    (unsent) a message the inquiry has, by its platform id."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["edit", "withdrawn"]
    at: AwareDatetime
    text: str | None = None


class EarlierText(BaseModel):
    """A message's text before an edit, and since when it read so."""

    at: AwareDatetime
    text: str


class BrandMessage(BaseModel):
    """The ``brand_message`` signal: the brand's own post or DM in the conversation, made on the
    platform rather than through careflow (or careflow's own post, echoed back by the platform's
    webhook, which the workflow recognises by its id and leaves alone)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    private: bool = False
    at: AwareDatetime
    by: str = "brand"  # the account that posted it


class Message(BaseModel):
    """One message in the conversation, in or out."""

    at: AwareDatetime
    direction: Literal["in", "out"]
    private: bool
    text: str
    by: str  # the customer's handle, an agent's name, or "rule:<name>" for scripted messages
    kind: str  # post, message, reply, invitation, reminder, follow_up
    id: str | None = None  # platform id (in) or delivery id (out)
    key: str | None = None  # idempotency key of an outbound message
    link: str | None = None  # a chat hand-off's session, sent on to the customer
    also: list[str] = []  # platform ids of the message's other posts (thread parts, a pointer)
    attachments: list[Attachment] = []  # a customer message's media ({type, url})
    # A customer's edits: the texts it had before (the first and the latest few), and when.
    edited_from: list[EarlierText] = []
    edited_at: AwareDatetime | None = None
    # Unsent by the customer: text, media and earlier texts are cleared from the view (the
    # signals that carried them stay in the workflow history, for audit).
    withdrawn_at: AwareDatetime | None = None


class TimelineEntry(BaseModel):
    """One thing that happened, for people: ``event`` is a short name, ``detail`` a sentence."""

    at: AwareDatetime
    event: str
    detail: str
    actor: Actor | None = None  # the person whose action made it (patch console-actors-recorded)
    reason: str | None = None  # the action's reason code (patch console-reason-codes)


class FiredRule(BaseModel):
    """A rule that fired, on which event, and the tests that made it match."""

    at: AwareDatetime
    event: str
    rule: str
    why: list[str]


class Escalation(BaseModel):
    """A hand-off to a supervisor or to live chat."""

    at: AwareDatetime
    to: str
    reason: str
    by: str


class Earlier(BaseModel):
    """What the state no longer carries (since the bounded-state patch): how many earlier
    messages, timeline entries, rules fired, clocks and escalations there were, what of them
    still counts (missed windows, the customer's last message), and which runs' histories hold
    them. The workflow history keeps every signal, update and activity: the full transcript."""

    model_config = ConfigDict(extra="forbid")

    messages: int = 0
    timeline: int = 0
    fired: int = 0
    clocks: int = 0
    escalations: int = 0
    breached: list[str] = []  # clocks whose published window was missed, once each
    missed_internal: list[str] = []  # clocks whose internal target was missed, once each
    customer_last_at: AwareDatetime | None = None  # the latest of the customer's earlier messages
    runs: list[str] = []  # earlier runs' ids, oldest first (the first and the latest few)
    run_count: int = 0  # how many earlier runs there were (``runs`` may skip some)


class InquiryState(BaseModel):
    """Everything the workflow knows; carried across continue-as-new (bounded since the
    bounded-state patch: the latest messages, timeline and clocks, and ``earlier``)."""

    model_config = ConfigDict(extra="forbid")

    inquiry: Inquiry
    rules: RulesSource  # the exact rule file, for the inquiry's whole life
    values: ValuesState
    step: Step = "acknowledge"
    agent: str | None = None
    clocks: dict[str, ClockState] = {}
    earlier_clocks: list[ClockState] = []  # finished instances: a reopened resolve, past next_reply
    fired: list[FiredRule] = []
    messages: list[Message] = []
    timeline: list[TimelineEntry] = []
    seen_message_ids: list[str] = []
    inbox: list[CustomerMessage] = []  # received but not yet handled (carried over)
    brand_inbox: list[BrandMessage] = []  # the brand's native replies not yet handled
    changes: list[MessageChange] = []  # customers' edits and unsent messages not yet handled
    duplicate_deliveries: int = 0
    sequence: int = 0  # numbers outbound actions: part of each idempotency key
    # The inquiry's first run: with the workflow id it tells this inquiry's idempotency keys from
    # those of the conversation's earlier inquiries (None: started before the inquiry-keys patch).
    first_run_id: str | None = None
    # The rule engine's behaviour version (workflows.engine_version), chosen in the first run and
    # carried, so the inquiry keeps it for life; states carried from before it existed ran 1.
    engine_version: int = 1
    reopens: int = 0
    waiting_on_customer: bool = False
    invited_at: AwareDatetime | None = None
    reminded_at: AwareDatetime | None = None
    private_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    resolution_code: str | None = None
    resolution_note: str | None = None
    follow_up_sent_at: AwareDatetime | None = None
    first_response_at: AwareDatetime | None = None
    escalations: list[Escalation] = []
    closed_at: AwareDatetime | None = None
    close_reason: str | None = None
    runs: int = 1  # how many runs (continue-as-new) this inquiry has used
    # Defaulted, so states carried before the bounded-state patch still decode.
    earlier: Earlier = Field(default_factory=Earlier)
    rating_asked_at: AwareDatetime | None = None  # the latest follow-up that asked for a rating
    rating: Rating | None = None  # the customer's latest rating (workflows.rating)
    review_id: str | None = None  # the quality review's workflow, when sampled (workflows.qa)
    # The rule file's topics matched so far (workflows.topics), carried so that a new run still
    # knows the topics of messages the bounded state let go.
    topics: list[str] = []

    @property
    def private_channel(self) -> bool:
        """Whether the conversation continues privately (a DM from the start, or since the invite)."""
        return self.inquiry.kind == "private" or self.private_at is not None


class ClockView(BaseModel):
    """One clock as the status shows it.

    ``internal`` and ``published`` are ``pending``, ``met`` or ``missed``. A clock that ended with
    its step before a deadline (a next-reply clock when the inquiry is resolved) shows ``met`` with
    ``stopped_at`` set: the deadline was not missed, and nobody is still owed an answer.
    """

    started_at: datetime
    internal_due: datetime
    published_due: datetime
    warning_due: datetime | None
    internal: ShownVerdict
    published: ShownVerdict
    met_at: datetime | None
    stopped_at: datetime | None
    paused: bool
    internal_passed_at: datetime | None
    published_passed_at: datetime | None

    @classmethod
    def of(cls, clock: ClockState) -> ClockView:
        return cls(
            started_at=clock.started_at,
            internal_due=clock.internal_due,
            published_due=clock.published_due,
            warning_due=clock.warning_due,
            internal="met" if clock.internal == "stopped" else clock.internal,
            published="met" if clock.published == "stopped" else clock.published,
            met_at=clock.met_at,
            stopped_at=clock.stopped_at,
            paused=clock.paused_at is not None,
            internal_passed_at=clock.internal_passed_at,
            published_passed_at=clock.published_passed_at,
        )


class EarlierView(BaseModel):
    """What the status leaves out, and where it is: the latest ``messages``, ``timeline``,
    ``why`` and ``earlier_clocks`` are shown; these many came before them. Their full record is
    in the workflow histories of the runs named in ``runs`` (and this run's own)."""

    messages: int = 0
    timeline: int = 0
    fired: int = 0
    clocks: int = 0
    escalations: int = 0
    runs: list[str] = []
    run_count: int = 0

    @property
    def any(self) -> bool:
        """Whether anything was left out."""
        return bool(self.messages or self.timeline or self.fired or self.clocks or self.escalations)

    def note(self, count: int, what: str) -> str | None:
        """The line a view shows where it starts: "412 earlier messages, in the workflow
        histories of runs …", or None when nothing was left out."""
        if not count:
            return None
        where = "this run's workflow history"
        if self.runs:
            shown = ", ".join(self.runs)
            skipped = self.run_count - len(self.runs)
            more = f" and {skipped} more" if skipped > 0 else ""
            where = f"the workflow histories of runs {shown}{more} and of this run"
        return f"{count} earlier {what}, in {where}"


class InquiryStatus(BaseModel):
    """The status query's answer and the heart of the result (bounded: see ``earlier``)."""

    id: str
    inquiry: Inquiry
    step: Step
    category: str
    priority: str
    queue: str
    privatize: str
    windows: str
    tags: list[str]
    agent: str | None
    ruleset: dict[str, str]
    fired: list[str]
    why: list[FiredRule]
    clocks: dict[str, ClockView]
    earlier_clocks: list[dict[str, object]] = Field(default_factory=list)
    next_due: datetime | None
    breached: list[str]
    messages: list[Message]
    timeline: list[TimelineEntry]
    reopens: int
    waiting_on_customer: bool
    resolution_code: str | None
    resolution_note: str | None
    escalations: list[Escalation]
    duplicate_deliveries: int
    close_reason: str | None
    closed_at: datetime | None
    runs: int
    # Defaulted, so statuses and results recorded before the bounded-state patch still decode.
    earlier: EarlierView = Field(default_factory=EarlierView)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    rating_asked_at: datetime | None = None
    rating: Rating | None = None
    review_id: str | None = None


def next_due(state: InquiryState) -> datetime | None:
    """The earliest pending deadline of any running clock: what orders the agents' queue."""
    dues = [d for d in (next_deadline(c) for c in state.clocks.values()) if d is not None]
    return min(dues) if dues else None


def breached(state: InquiryState) -> list[str]:
    """Clocks whose published window was missed, current and earlier instances, once each."""
    return _clocks_where(state, lambda clock: clock.published == "missed", state.earlier.breached)


def missed_internal(state: InquiryState) -> list[str]:
    """Clocks whose internal target was missed, current and earlier instances, once each."""
    return _clocks_where(
        state, lambda clock: clock.internal == "missed", state.earlier.missed_internal
    )


def _clocks_where(
    state: InquiryState, test: Callable[[ClockState], bool], earlier: list[str]
) -> list[str]:
    names: list[str] = list(earlier)
    for clock in [*state.earlier_clocks, *state.clocks.values()]:
        if test(clock) and clock.name not in names:
            names.append(clock.name)
    return names


# What the status shows of each list: the latest ones (the state keeps about as many since the
# bounded-state patch; a state carried before it is cut here, so the view stays bounded).
SHOWN_MESSAGES = 100
SHOWN_TIMELINE = 200
SHOWN_FIRED = 100
SHOWN_CLOCKS = 20
SHOWN_ESCALATIONS = 50


def _latest(items: list[T], shown: int) -> tuple[list[T], int]:
    """The latest ``shown`` items, and how many were left out."""
    left_out = max(len(items) - shown, 0)
    return items[left_out:], left_out


def status_of(
    state: InquiryState, workflow_id: str, *, duplicate_deliveries: int | None = None
) -> InquiryStatus:
    """The status view of ``state``, bounded; reads ``state`` only (the status query must not
    change the workflow). ``duplicate_deliveries``: the workflow's own count, when newer."""
    values, earlier = state.values, state.earlier
    messages, messages_cut = _latest(state.messages, SHOWN_MESSAGES)
    timeline, timeline_cut = _latest(state.timeline, SHOWN_TIMELINE)
    fired, fired_cut = _latest(state.fired, SHOWN_FIRED)
    clocks, clocks_cut = _latest(state.earlier_clocks, SHOWN_CLOCKS)
    escalations, escalations_cut = _latest(state.escalations, SHOWN_ESCALATIONS)
    duplicates = (
        state.duplicate_deliveries if duplicate_deliveries is None else duplicate_deliveries
    )
    return InquiryStatus(
        id=workflow_id,
        inquiry=state.inquiry,
        step=state.step,
        category=values.category,
        priority=values.priority,
        queue=values.queue,
        privatize=values.privatize,
        windows=values.windows,
        tags=list(values.tags),
        agent=state.agent,
        ruleset={
            "name": state.rules.name,
            "digest": state.rules.digest,
            "file": state.rules.file,
            **engine_version.versions(state.rules, state.engine_version),
        },
        fired=[f.rule for f in fired],
        why=list(fired),
        clocks={name: ClockView.of(clock) for name, clock in state.clocks.items()},
        earlier_clocks=[
            {"name": c.name, **ClockView.of(c).model_dump(mode="json")} for c in clocks
        ],
        next_due=next_due(state),
        breached=breached(state),
        messages=list(messages),
        timeline=list(timeline),
        reopens=state.reopens,
        waiting_on_customer=state.waiting_on_customer,
        resolution_code=state.resolution_code,
        resolution_note=state.resolution_note,
        escalations=list(escalations),
        duplicate_deliveries=duplicates,
        close_reason=state.close_reason,
        closed_at=state.closed_at,
        runs=state.runs,
        earlier=EarlierView(
            messages=earlier.messages + messages_cut,
            timeline=earlier.timeline + timeline_cut,
            fired=earlier.fired + fired_cut,
            clocks=earlier.clocks + clocks_cut,
            escalations=earlier.escalations + escalations_cut,
            runs=list(earlier.runs),
            run_count=earlier.run_count,
        ),
        first_response_at=state.first_response_at,
        resolved_at=state.resolved_at,
        rating_asked_at=state.rating_asked_at,
        rating=state.rating,
        review_id=state.review_id,
    )
