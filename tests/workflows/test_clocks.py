"""Response clocks: deadlines on a calendar, each passing once; met, paused, resumed, stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from careflow.engine.calendars import ALWAYS, BusinessCalendar
from careflow.engine.model import Clock
from workflows.clocks import (
    ClockState,
    meet_clock,
    next_deadline,
    pass_deadlines,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)

OFFICE = BusinessCalendar.from_spec(
    "office", {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}}
)
T0 = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # a Tuesday
SPEC = Clock(internal="30m", published="1h")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def clock(spec: Clock = SPEC, at: datetime = T0) -> ClockState:
    return start_clock("acknowledge", spec, "always", ALWAYS, at)


def test_business_hours_deadline_runs_over_the_weekend() -> None:
    state = start_clock(
        "acknowledge", Clock(internal="1h", published="2h"), "office", OFFICE, utc(20, 16, 30)
    )
    assert state.internal_due == utc(23, 9, 30)  # Fri 16:30 + 1h = Mon 09:30
    assert state.published_due == utc(23, 10, 30)


def test_each_deadline_passes_once_in_order() -> None:
    state = clock(Clock(internal="30m", published="1h", warn_before="10m"))
    assert next_deadline(state) == T0 + timedelta(minutes=30)
    assert pass_deadlines(state, T0 + timedelta(minutes=29)) == []
    assert pass_deadlines(state, T0 + timedelta(minutes=30)) == ["window.internal"]
    assert next_deadline(state) == T0 + timedelta(minutes=50)
    assert pass_deadlines(state, T0 + timedelta(minutes=50)) == ["window.warning"]
    assert pass_deadlines(state, T0 + timedelta(minutes=50)) == []
    assert pass_deadlines(state, T0 + timedelta(hours=2)) == ["window.published"]
    assert (state.internal, state.published) == ("missed", "missed")
    assert state.published_passed_at == T0 + timedelta(hours=2)
    assert next_deadline(state) is None


def test_reply_in_time_meets_both() -> None:
    state = clock()
    assert meet_clock(state, T0 + timedelta(minutes=10), by_human=True)
    assert (state.internal, state.published) == ("met", "met")
    assert next_deadline(state) is None
    assert not meet_clock(state, T0 + timedelta(minutes=20), by_human=True)  # once


def test_late_for_the_target_but_within_the_window() -> None:
    state = clock()
    meet_clock(state, T0 + timedelta(minutes=45), by_human=False)
    assert (state.internal, state.published) == ("missed", "met")
    assert state.internal_passed_at == T0 + timedelta(minutes=45)


def test_human_only_clock_ignores_automatic_replies() -> None:
    state = clock(Clock(internal="30m", published="1h", met_by="human"))
    assert not meet_clock(state, T0 + timedelta(minutes=5), by_human=False)
    assert (state.internal, state.met_at) == ("pending", None)
    assert meet_clock(state, T0 + timedelta(minutes=6), by_human=True)
    assert (state.internal, state.met_at) == ("met", T0 + timedelta(minutes=6))


def test_warning_at_a_share_of_the_window() -> None:
    state = clock(Clock(internal="30m", published="1h", warn_before="25%"))
    assert state.warning_due == T0 + timedelta(minutes=45)


def test_waiting_on_the_customer_pauses_the_clock() -> None:
    state = clock()
    assert pause_clock(state, T0 + timedelta(minutes=20)) == []
    assert next_deadline(state) is None
    assert pass_deadlines(state, T0 + timedelta(hours=5)) == []
    resume_clock(state, ALWAYS, T0 + timedelta(hours=3))
    assert state.internal_due == T0 + timedelta(hours=3, minutes=10)
    assert state.published_due == T0 + timedelta(hours=3, minutes=40)


def test_pause_over_a_weekend_keeps_the_open_time_left() -> None:
    state = start_clock(
        "resolve", Clock(internal="1h", published="4h"), "office", OFFICE, utc(20, 16, 0)
    )
    pause_clock(state, utc(20, 16, 30))  # 30 open minutes used, Friday
    resume_clock(state, OFFICE, utc(24, 11, 0))  # Tuesday 11:00
    assert state.internal_due == utc(24, 11, 30)
    assert state.published_due == utc(24, 14, 30)


def test_resolving_stops_the_next_reply_clock_even_after_the_customer_spoke_last() -> None:
    state = start_clock("next_reply", SPEC, "always", ALWAYS, T0)
    assert stop_clock(state, T0 + timedelta(minutes=40)) == ["window.internal"]
    assert (state.internal, state.published) == ("missed", "stopped")
    assert next_deadline(state) is None
    assert pass_deadlines(state, T0 + timedelta(hours=9)) == []
    assert not meet_clock(state, T0 + timedelta(hours=9), by_human=True)


def test_state_survives_serialization() -> None:
    state = clock(Clock(internal="30m", published="1h", warn_before="10m"))
    pass_deadlines(state, T0 + timedelta(minutes=31))
    again = ClockState.model_validate_json(state.model_dump_json())
    assert again == state


@settings(max_examples=200, deadline=None)
@given(
    pause_after=st.integers(0, 120),
    paused_for=st.integers(0, 600),
)
def test_paused_time_never_counts(pause_after: int, paused_for: int) -> None:
    """Around the clock, a pause moves every deadline not yet passed by exactly its length."""
    state = clock()
    paused_at = T0 + timedelta(minutes=pause_after)
    pause_clock(state, paused_at)
    resume_clock(state, ALWAYS, paused_at + timedelta(minutes=paused_for))
    shift = timedelta(minutes=paused_for)
    internal = T0 + timedelta(minutes=30)
    published = T0 + timedelta(hours=1)
    assert state.internal_due == (internal if paused_at >= internal else internal + shift)
    assert state.published_due == (published if paused_at >= published else published + shift)
