"""One response clock: an internal target and a published window, counted on a calendar.

Pure and deterministic (no wall clock: every call gets ``at``), so the inquiry workflow can keep
clocks in its state, carry them across continue-as-new, and replay them. Each deadline passes
at most once; a clock is met by a reply (any customer-visible reply, or a human's only, as the
windows policy says), paused while the team waits on the customer, and stopped when the step it
belongs to ends (a resolved inquiry's next-reply clock stops, even if the customer had the last
word).

Deadlines that passed before a reply, pause or stop are recorded by those calls too, so a verdict
is never wrong; ``pause_clock`` and ``stop_clock`` return their events, and the workflow runs
``pass_deadlines`` before ``meet_clock`` so that no ``window.*`` event goes unhandled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from careflow.engine.calendars import Calendar
from careflow.engine.durations import parse_duration
from careflow.engine.model import Clock as ClockSpec

Verdict = Literal["pending", "met", "missed", "stopped"]
ClockEvent = Literal["window.warning", "window.internal", "window.published"]


class ClockState(BaseModel):
    """A running or finished clock, as kept in workflow state."""

    model_config = ConfigDict(extra="forbid")

    name: str  # acknowledge | resolve | next_reply
    calendar: str
    started_at: AwareDatetime
    internal_due: AwareDatetime
    published_due: AwareDatetime
    warning_due: AwareDatetime | None = None
    met_by: Literal["any", "human"] = "any"
    internal: Verdict = "pending"
    published: Verdict = "pending"
    warned_at: AwareDatetime | None = None
    internal_passed_at: AwareDatetime | None = None
    published_passed_at: AwareDatetime | None = None
    met_at: AwareDatetime | None = None
    paused_at: AwareDatetime | None = None
    stopped_at: AwareDatetime | None = None

    @property
    def finished(self) -> bool:
        """Met or stopped: nothing can change it any more."""
        return self.met_at is not None or self.stopped_at is not None

    @property
    def running(self) -> bool:
        """Still counting: not finished, not paused."""
        return not self.finished and self.paused_at is None


def _warning_due(
    spec: ClockSpec, calendar: Calendar, start: datetime, published: timedelta
) -> datetime | None:
    if spec.warn_before is None:
        return None
    if spec.warn_before.endswith("%"):
        left = published * (int(spec.warn_before[:-1]) / 100)
    else:
        left = parse_duration(spec.warn_before)
    return calendar.due(start, published - left)


def start_clock(
    name: str, spec: ClockSpec, calendar_name: str, calendar: Calendar, at: datetime
) -> ClockState:
    """Start a clock at ``at`` (a post arriving while closed starts counting at the opening)."""
    internal, published = parse_duration(spec.internal), parse_duration(spec.published)
    return ClockState(
        name=name,
        calendar=calendar_name,
        started_at=at,
        internal_due=calendar.due(at, internal),
        published_due=calendar.due(at, published),
        warning_due=_warning_due(spec, calendar, at, published),
        met_by=spec.met_by,
    )


def next_deadline(clock: ClockState) -> datetime | None:
    """When the workflow should next wake up for this clock, or None if nothing is pending."""
    if not clock.running:
        return None
    pending = [
        due
        for due, done in (
            (clock.warning_due, clock.warned_at),
            (clock.internal_due, clock.internal_passed_at),
            (clock.published_due, clock.published_passed_at),
        )
        if due is not None and done is None
    ]
    return min(pending) if pending else None


def pass_deadlines(clock: ClockState, at: datetime) -> list[ClockEvent]:
    """Record every deadline reached by ``at``, each once, and return the events to run."""
    if not clock.running:
        return []
    events: list[ClockEvent] = []
    if clock.warning_due is not None and clock.warned_at is None and at >= clock.warning_due:
        clock.warned_at = at
        events.append("window.warning")
    if clock.internal_passed_at is None and at >= clock.internal_due:
        clock.internal_passed_at = at
        clock.internal = "missed"
        events.append("window.internal")
    if clock.published_passed_at is None and at >= clock.published_due:
        clock.published_passed_at = at
        clock.published = "missed"
        events.append("window.published")
    return events


def meet_clock(clock: ClockState, at: datetime, *, by_human: bool) -> bool:
    """A reply at ``at``: meets the clock unless only humans count and this one is automatic.

    Deadlines already passed stay missed; the others are met even when the reply is late for an
    earlier one (Salesforce's success-even-when-late).
    """
    if clock.finished or (clock.met_by == "human" and not by_human):
        return False
    _settle(clock, at, "met")
    clock.met_at = at
    return True


def pause_clock(clock: ClockState, at: datetime) -> list[ClockEvent]:
    """Waiting on the customer: stop counting until ``resume_clock``."""
    if not clock.running:
        return []
    events = pass_deadlines(clock, at)
    clock.paused_at = at
    return events


def resume_clock(clock: ClockState, calendar: Calendar, at: datetime) -> None:
    """The customer answered: the deadlines not yet passed move by the open time spent paused."""
    if clock.paused_at is None or clock.finished:
        return
    paused_at = clock.paused_at

    def shifted(due: datetime, done: datetime | None) -> datetime:
        return calendar.due(at, calendar.open_time_between(paused_at, due)) if done is None else due

    # Every deadline is computed before any is changed: a calendar that fails leaves it paused.
    warning_due = clock.warning_due
    if warning_due is not None:
        warning_due = shifted(warning_due, clock.warned_at)
    internal_due = shifted(clock.internal_due, clock.internal_passed_at)
    published_due = shifted(clock.published_due, clock.published_passed_at)
    clock.warning_due, clock.internal_due, clock.published_due = (
        warning_due,
        internal_due,
        published_due,
    )
    clock.paused_at = None


def stop_clock(clock: ClockState, at: datetime) -> list[ClockEvent]:
    """The step ended without a reply (e.g. resolved): pending verdicts become ``stopped``."""
    if clock.finished:
        return []
    events = _settle(clock, at, "stopped")
    clock.stopped_at = at
    return events


def _settle(clock: ClockState, at: datetime, verdict: Verdict) -> list[ClockEvent]:
    """End a clock at ``at``: record the deadlines that passed first, then settle the rest."""
    events = pass_deadlines(clock, at) if clock.paused_at is None else []
    clock.paused_at = None
    if clock.internal == "pending":
        clock.internal = verdict
    if clock.published == "pending":
        clock.published = verdict
    return events
