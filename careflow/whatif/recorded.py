"""A past inquiry as what-if needs it, read from its workflow history (one or more runs).

What people did is fixed input: the post, the customer's later messages, the brand's own posts
and every agent action the workflow accepted, each with its offset from the first run's start.
The rules the inquiry ran with are in the history too (the ``load_rules`` activity's result, or
the state a continue-as-new run carries).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.types import LOAD_RULES, RulesSource
from careflow.audit.decrypt import decrypt_history
from workflows.messages import InquiryInput
from workflows.state import BrandMessage, CustomerMessage, MessageChange

SIGNALS: dict[str, type[Any]] = {
    "customer_message": CustomerMessage,
    "brand_message": BrandMessage,
    "message_change": MessageChange,
}
UPDATES = ("acknowledge", "reply", "invite_private", "resolve", "reopen", "assign", "escalate")
# What a person did that answers the customer (the acknowledge clock's "first response").
RESPONSES = ("acknowledge", "reply", "invite_private")


class HistoryReadError(ValueError):
    """A history what-if cannot read (not an inquiry's), said with its workflow id."""


@dataclass(frozen=True)
class Act:
    """One thing a person did: a signal (customer or brand) or an agent's update."""

    offset: timedelta  # from the first run's start
    kind: str  # "signal" or "update"
    name: str
    payload: dict[str, Any]  # the request or message as JSON-ready data

    @property
    def responds(self) -> bool:
        """Whether this answered the customer (meets a reply clock)."""
        return (self.kind == "update" and self.name in RESPONSES) or (
            self.kind == "signal" and self.name == "brand_message"
        )


@dataclass
class Recorded:
    """One inquiry's inputs: its start input, its rules and what people did, in order."""

    workflow_id: str
    first_run_id: str
    started_at: datetime
    input: InquiryInput
    rules: RulesSource | None  # None: the history ended before the rules loaded
    acts: list[Act] = field(default_factory=list)
    ended: timedelta = timedelta(0)  # offset of the last event seen: the observed period
    closed: bool = False

    @property
    def text(self) -> str:
        return self.input.inquiry.text

    def first_response(self) -> timedelta | None:
        """When a person first answered the customer, from the start (None: nobody did)."""
        return next((act.offset for act in self.acts if act.responds), None)


def _decode_args(converter: DataConverter, payloads: Iterable[Payload], hint: type[Any]) -> Any:
    values = converter.payload_converter.from_payloads(list(payloads), [hint])
    return values[0] if values else None


async def _decoded(converter: DataConverter, history: WorkflowHistory) -> list[HistoryEvent]:
    """The events with every payload decoded by the converter's codec (encrypted histories)."""
    if converter.payload_codec is None:
        return list(history.events)
    return list((await decrypt_history(history, converter.payload_codec)).events)


@dataclass
class _Run:
    """One run's share of an inquiry."""

    workflow_id: str
    first_run_id: str
    started_at: datetime
    input: InquiryInput
    rules: RulesSource | None
    acts: list[tuple[datetime, str, str, dict[str, Any]]]
    last_at: datetime
    closed: bool


def _update_outcomes(events: list[HistoryEvent]) -> set[str]:
    """Ids of updates that completed with a failure: accepted, then refused under the lock."""
    failed: set[str] = set()
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            attributes = event.workflow_execution_update_completed_event_attributes
            if attributes.outcome.HasField("failure"):
                failed.add(attributes.meta.update_id)
    return failed


def read_run(converter: DataConverter, workflow_id: str, events: list[HistoryEvent]) -> _Run:
    """The inputs one run of an inquiry holds; raises HistoryReadError if it is no inquiry's."""
    first = events[0]
    if first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        raise HistoryReadError(f"{workflow_id}: the history does not start with the workflow")
    started = first.workflow_execution_started_event_attributes
    try:
        start_input = _decode_args(converter, started.input.payloads, InquiryInput)
    except Exception as error:  # a payload of another workflow, or still encrypted
        raise HistoryReadError(f"{workflow_id}: not an inquiry's history ({error})") from None
    if not isinstance(start_input, InquiryInput):
        raise HistoryReadError(f"{workflow_id}: not an inquiry's history (no input)")
    rules = start_input.state.rules if start_input.state is not None else None
    load_rules_events: set[int] = set()
    failed = _update_outcomes(events)
    acts: list[tuple[datetime, str, str, dict[str, Any]]] = []
    closed = False
    for event in events:
        at = event.event_time.ToDatetime().replace(tzinfo=UTC)
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == LOAD_RULES:
                load_rules_events.add(event.event_id)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes = event.activity_task_completed_event_attributes
            if attributes.scheduled_event_id in load_rules_events:
                rules = _decode_args(converter, attributes.result.payloads, RulesSource)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = event.workflow_execution_signaled_event_attributes
            hint = SIGNALS.get(signal.signal_name)
            if hint is not None:
                message = _decode_args(converter, signal.input.payloads, hint)
                acts.append((at, "signal", signal.signal_name, message.model_dump(mode="json")))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            name = request.input.name
            if name in UPDATES and request.meta.update_id not in failed:
                payload = converter.payload_converter.from_payloads(
                    list(request.input.args.payloads), None
                )
                acts.append((at, "update", name, payload[0] if payload else {}))
        elif kind in _CLOSED:
            closed = kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    return _Run(
        workflow_id=workflow_id,
        first_run_id=started.first_execution_run_id or started.original_execution_run_id,
        started_at=first.event_time.ToDatetime().replace(tzinfo=UTC),
        input=start_input,
        rules=rules,
        acts=acts,
        last_at=events[-1].event_time.ToDatetime().replace(tzinfo=UTC),
        closed=closed,
    )


_CLOSED = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
)


def _merged(runs: list[_Run]) -> Recorded:
    """One inquiry from its runs (a continue-as-new chain), oldest first."""
    runs = sorted(runs, key=lambda run: run.started_at)
    first, last = runs[0], runs[-1]
    if first.input.state is not None:
        # The chain's first run was not exported: start from the earliest one there is.
        inquiry_input = first.input.model_copy(update={"state": None})
    else:
        inquiry_input = first.input
    rules = next((run.rules for run in runs if run.rules is not None), None)
    acts = [
        Act(offset=at - first.started_at, kind=kind, name=name, payload=payload)
        for run in runs
        for at, kind, name, payload in run.acts
    ]
    return Recorded(
        workflow_id=first.workflow_id,
        first_run_id=first.first_run_id,
        started_at=first.started_at,
        input=inquiry_input,
        rules=rules,
        acts=acts,
        ended=last.last_at - first.started_at,
        closed=last.closed,
    )


async def recorded_inquiries(
    converter: DataConverter, histories: Iterable[WorkflowHistory]
) -> list[Recorded]:
    """Every inquiry in ``histories``, runs of one chain joined, ordered by start then id."""
    chains: dict[tuple[str, str], list[_Run]] = {}
    for history in histories:
        events = await _decoded(converter, history)
        if not events:
            continue
        run = read_run(converter, history.workflow_id, events)
        chains.setdefault((run.workflow_id, run.first_run_id), []).append(run)
    inquiries = [_merged(runs) for runs in chains.values()]
    return sorted(inquiries, key=lambda r: (r.started_at, r.workflow_id, r.first_run_id))
