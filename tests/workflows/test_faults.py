"""The last line of defence's pure parts, without a server: what an unexpected error becomes,
and clocks that fall back to counting around the clock when their calendar fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio import workflow

from careflow.engine.calendars import ALWAYS
from tests.workflows.states import RULES, inquiry_state
from workflows import faults, timing

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
NOW = datetime(2026, 11, 17, 15, 5, tzinfo=UTC)


def test_the_reason_names_where_and_the_error() -> None:
    error = OverflowError("date value out of range")
    assert faults.reason("the clocks", error) == (
        "unexpected error in the clocks: OverflowError: date value out of range"
    )
    assert faults.describe(KeyError()) == "KeyError"


def test_a_supervisor_is_told_of_each_error_once_wherever_it_happens() -> None:
    error = OverflowError("date value out of range")
    told = [faults.reason("the clocks", error), "could not deliver a reply: 401"]
    assert faults.already_escalated(OverflowError("date value out of range"), told)
    assert not faults.already_escalated(ZeroDivisionError("division by zero"), told)
    assert not faults.already_escalated(error, ["an agent's own reason"])


def test_a_nondeterminism_error_is_left_to_fail_the_task() -> None:
    assert faults.recoverable(ValueError("x"))
    assert not faults.recoverable(workflow.NondeterminismError("changed code"))


def test_rules_that_failed_decide_nothing() -> None:
    values = RULES.defaults
    decision = faults.no_decision("customer.message", values)
    assert (decision.values, decision.fired, decision.actions, decision.dropped) == (
        values,
        [],
        [],
        False,
    )


def test_a_clock_whose_calendar_fails_leaves_the_state_as_it_was() -> None:
    state = inquiry_state()
    timing.restart_clock(state, RULES, "resolve", NOW)
    before = state.model_copy(deep=True)
    with pytest.raises((OverflowError, ValueError)):
        timing.restart_clock(state, RULES, "resolve", FAR_FUTURE)
    assert state == before  # the running clock is still there, not moved to earlier_clocks


def test_the_fallback_counts_around_the_clock() -> None:
    state = inquiry_state()
    timing.restart_clock(state, RULES, "acknowledge", NOW, calendar=ALWAYS.name)
    clock = state.clocks["acknowledge"]
    assert clock.calendar == "always"
    assert clock.internal_due == NOW + timedelta(minutes=30)


def test_a_paused_clock_resumes_around_the_clock_when_asked() -> None:
    state = inquiry_state(step="resolve")
    timing.restart_clock(state, RULES, "resolve", NOW)
    timing.wait_on_customer(state, NOW + timedelta(hours=1))
    due = state.clocks["resolve"].internal_due
    timing.stop_waiting(state, RULES, NOW + timedelta(hours=3), calendar=ALWAYS.name)
    clock = state.clocks["resolve"]
    assert (clock.calendar, clock.paused_at, state.waiting_on_customer) == ("always", None, False)
    assert clock.internal_due == due + timedelta(hours=2)  # the paused time does not count
