"""Re-derive the rules digest from a history: the rules text it recorded must hash to the
digest it recorded. Also: whether the tz database it recorded is the one replay uses.

The workflow checks this itself since the ``audit-rules-digest`` patch; this check also covers
histories from before it, and says what is wrong in words rather than as a replay failure.
The rules text is in the ``load_rules`` activity's result (first run) and in the state carried
into a run that continued as new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.types import LOAD_RULES
from careflow.engine.zones import TZDATA_VERSION
from workflows import rules_digest


async def _decoded(converter: DataConverter, payloads: Sequence[Payload]) -> list[Any]:
    return await converter.decode(payloads)


def _rules_payloads(history: WorkflowHistory) -> list[tuple[str, Sequence[Payload]]]:
    """Where the history holds rules text: (where, the payloads holding it)."""
    found: list[tuple[str, Sequence[Payload]]] = []
    started = history.events[0].workflow_execution_started_event_attributes
    if started.continued_execution_run_id and started.input.payloads:
        found.append(("the state carried into this run", started.input.payloads))
    load_rules_events = {
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == LOAD_RULES
    }
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            continue
        attributes = event.activity_task_completed_event_attributes
        if attributes.scheduled_event_id in load_rules_events and attributes.result.payloads:
            found.append(
                (f"the load_rules result (event {event.event_id})", attributes.result.payloads)
            )
    return found


def _rules_of(value: Any) -> dict[str, Any] | None:
    """The rules source inside a decoded load_rules result or a carried workflow input."""
    if not isinstance(value, dict):
        return None
    if "state" in value:  # InquiryInput of a continued run
        state = value.get("state")
        value = state.get("rules") if isinstance(state, dict) else None
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value
    return None


async def rules_problems(history: WorkflowHistory, converter: DataConverter) -> list[str]:
    """One sentence for each place in ``history`` whose rules text does not hash to its digest
    (or cannot be read: encrypted with a key not configured)."""
    problems: list[str] = []
    for where, payloads in _rules_payloads(history):
        try:
            values = await _decoded(converter, payloads)
        except Exception as error:  # a codec or converter error: say it, do not stop the audit
            problems.append(f"cannot read {where} to check the rules digest: {error}")
            continue
        rules = _rules_of(values[0]) if values else None
        if rules is None:
            continue
        problem = rules_digest.mismatch(rules["text"], str(rules.get("digest", "")))
        if problem is not None:
            problems.append(f"{where}: {problem}")
    return problems


async def tzdata_note(history: WorkflowHistory, converter: DataConverter) -> str | None:
    """A sentence when the history's calendars ran on another tz database release than this
    replay: not a failure (the decisions still replay), but deadlines in a zone whose rules
    changed between the two releases may differ from what this code would compute."""
    for _, payloads in _rules_payloads(history):
        try:
            values = await _decoded(converter, payloads)
        except Exception:  # unreadable: rules_problems already says so
            continue
        rules = _rules_of(values[0]) if values else None
        recorded = str(rules.get("tzdata_version") or "") if rules is not None else ""
        if recorded and recorded != TZDATA_VERSION:
            return (
                f"recorded with tzdata {recorded}, replayed with tzdata {TZDATA_VERSION}: "
                "deadlines in zones whose rules changed between them may differ; install "
                f"tzdata {recorded} to replay exactly"
            )
    return None
