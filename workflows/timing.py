"""The inquiry's clocks and flow timers against its rule file: when each is due, and what a
reply, a resolution or a pause does to them. Pure (every call gets the time), like
``workflows.clocks``, which keeps one clock; this module knows the inquiry and its rules.

Deadlines passed along the way come back as ``(event, clock name)`` pairs: the workflow runs the
``window.*`` rules for them.
"""

from __future__ import annotations

from datetime import datetime

from careflow.engine.durations import parse_duration
from careflow.engine.ruleset import Ruleset
from workflows.clocks import (
    ClockEvent,
    ClockState,
    meet_clock,
    next_deadline,
    pass_deadlines,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)
from workflows.state import InquiryState

Passed = list[tuple[ClockEvent, str]]


def _named(clock: ClockState, events: list[ClockEvent]) -> Passed:
    return [(event, clock.name) for event in events]


def restart_clock(
    state: InquiryState, ruleset: Ruleset, name: str, at: datetime, *, calendar: str | None = None
) -> None:
    """Start (or restart) clock ``name`` on the windows policy in force now; the one it replaces
    is kept in ``earlier_clocks``. ``calendar`` counts on another calendar than the policy's
    (the fallback when the policy's failed); if starting fails, the state is left as it was."""
    policy = ruleset.policy(state.values.windows)
    spec = getattr(policy, name)
    if spec is None:
        return
    counted_on = calendar or policy.calendar
    clock = start_clock(name, spec, counted_on, ruleset.calendars[counted_on], at)
    previous = state.clocks.pop(name, None)
    if previous is not None:
        state.earlier_clocks.append(previous)
    state.clocks[name] = clock


def passed(state: InquiryState, at: datetime) -> Passed:
    """Every deadline of every clock reached by ``at``."""
    events: Passed = []
    for clock in list(state.clocks.values()):
        events += _named(clock, pass_deadlines(clock, at))
    return events


def replied(state: InquiryState, at: datetime, *, human: bool) -> Passed:
    """A reply the customer got at ``at`` meets the acknowledge and next-reply clocks."""
    events: Passed = []
    for name in ("acknowledge", "next_reply"):
        clock = state.clocks.get(name)
        if clock is not None:
            events += _named(clock, pass_deadlines(clock, at))
            meet_clock(clock, at, by_human=human)
    return events


def resolved(state: InquiryState, at: datetime) -> Passed:
    """Resolution meets the resolve clock and stops the others."""
    events: Passed = []
    for name, clock in state.clocks.items():
        events += _named(clock, pass_deadlines(clock, at))
        if name == "resolve":
            meet_clock(clock, at, by_human=True)
        else:
            stop_clock(clock, at)
    return events


def stop_all(state: InquiryState, at: datetime) -> None:
    """The inquiry closed: every clock still counting stops."""
    for clock in state.clocks.values():
        stop_clock(clock, at)


def wait_on_customer(state: InquiryState, at: datetime) -> Passed:
    """The team waits on the customer: the resolve clock pauses until they write."""
    events: Passed = []
    clock = state.clocks.get("resolve")
    if clock is not None and state.step in ("privatize", "resolve", "acknowledge"):
        events = _named(clock, pause_clock(clock, at))
    state.waiting_on_customer = True
    return events


def stop_waiting(
    state: InquiryState, ruleset: Ruleset, at: datetime, *, calendar: str | None = None
) -> None:
    """The customer wrote (or the invitation was given up): the resolve clock counts again, from
    now on ``calendar`` if given (the fallback when its own failed)."""
    clock = state.clocks.get("resolve")
    if clock is not None and clock.paused_at is not None:
        if calendar is not None:
            clock.calendar = calendar
        resume_clock(clock, ruleset.calendars[clock.calendar], at)
    state.waiting_on_customer = False


def reminder_due(state: InquiryState, ruleset: Ruleset) -> datetime | None:
    """When the invitation's reminder goes out, if it is still to go."""
    if state.step == "privatize" and state.invited_at is not None and state.reminded_at is None:
        return state.invited_at + parse_duration(ruleset.rule_file.flow.privatize.remind_after)
    return None


def give_up_due(state: InquiryState, ruleset: Ruleset) -> datetime | None:
    """When careflow stops waiting for a private message and carries on in public."""
    if state.step == "privatize" and state.invited_at is not None:
        return state.invited_at + parse_duration(ruleset.rule_file.flow.privatize.give_up_after)
    return None


def follow_up_due(state: InquiryState, ruleset: Ruleset) -> datetime | None:
    """When the close-the-loop message goes out, if it is still to go."""
    if (
        state.step == "follow_up"
        and state.resolved_at is not None
        and state.follow_up_sent_at is None
    ):
        return state.resolved_at + parse_duration(ruleset.rule_file.flow.follow_up.after)
    return None


def silence_due(state: InquiryState, ruleset: Ruleset) -> datetime | None:
    """When silence after the follow-up closes the inquiry."""
    if (
        state.step == "follow_up"
        and state.resolved_at is not None
        and state.follow_up_sent_at is not None
    ):
        return state.follow_up_sent_at + parse_duration(ruleset.rule_file.flow.follow_up.wait)
    return None


def next_wake(state: InquiryState, ruleset: Ruleset) -> datetime | None:
    """The next instant something is due: a clock deadline or a flow timer."""
    dues = [next_deadline(clock) for clock in state.clocks.values()]
    dues += [
        reminder_due(state, ruleset),
        give_up_due(state, ruleset),
        follow_up_due(state, ruleset),
        silence_due(state, ruleset),
    ]
    present = [due for due in dues if due is not None]
    return min(present) if present else None
