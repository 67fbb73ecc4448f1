"""What an inquiry keeps of a long conversation, and how the views say what they left out."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from careflow.audit.report import build_report
from careflow.audit.report_html import report_html
from careflow.cli.audit import report_view
from careflow.terminal import status_view
from tests.workflows.states import RULES, inquiry_state
from workflows import bounded
from workflows.clocks import ClockState
from workflows.messages import InquiryInput
from workflows.outbound import Send, build
from workflows.state import InquiryState, Message, TimelineEntry, breached, status_of


def _long(exchanges: int) -> InquiryState:
    """An inquiry with ``exchanges`` questions and answers, its first resolve clock missed."""
    state = inquiry_state(step="resolve")
    start = state.inquiry.created_at
    missed = ClockState(
        name="resolve",
        calendar="always",
        started_at=start,
        internal_due=start + timedelta(hours=4),
        published_due=start + timedelta(hours=24),
        internal="missed",
        published="missed",
        met_at=start + timedelta(days=2),
    )
    state.earlier_clocks.append(missed)
    for n in range(exchanges):
        at = start + timedelta(minutes=n)
        state.messages.append(
            Message(at=at, direction="in", private=False, text=f"q{n}", by="jules", kind="message")
        )
        state.messages.append(
            Message(at=at, direction="out", private=False, text=f"a{n}", by="Ana", kind="reply")
        )
        state.timeline.append(TimelineEntry(at=at, event="customer.message", detail="wrote"))
        for _ in range(30):  # later reopens: many more resolve clocks, all met
            state.earlier_clocks.append(missed.model_copy(update={"internal": "met"}))
        state.earlier_clocks[-1].published = "met"
        bounded.trim(state)
    state.first_response_at = start
    return state


def test_trimming_keeps_the_latest_counts_the_rest_and_remembers_what_still_counts() -> None:
    state = _long(1_000)
    assert len(state.messages) == bounded.KEPT_MESSAGES
    assert state.earlier.messages == 2_000 - bounded.KEPT_MESSAGES
    assert state.messages[-1].text == "a999"
    assert len(state.earlier_clocks) == bounded.KEPT_CLOCKS
    # The missed window of a clock long let go is still a breach…
    assert breached(state) == ["resolve"]
    # …and the customer's last message is still known when only replies are kept.
    for n in range(bounded.KEPT_MESSAGES):
        state.messages.append(state.messages[-1].model_copy(update={"text": f"more {n}"}))
    bounded.trim(state)
    assert all(m.direction == "out" for m in state.messages)
    outbound = build(Send("reply", "Ana", text="hi"), "k", state, RULES)
    assert outbound.customer_last_at == state.inquiry.created_at + timedelta(minutes=999)


def test_a_state_carried_before_the_patch_still_decodes() -> None:
    old = inquiry_state().model_dump(mode="json")
    del old["earlier"]
    carried = InquiryInput.model_validate({"inquiry": old["inquiry"], "state": old})
    assert carried.state is not None and carried.state.earlier.messages == 0


def test_the_views_say_how_many_earlier_messages_there_are_and_where() -> None:
    state = _long(300)
    bounded.ended_run(state.earlier, "run-1")
    status = status_of(state, "inquiry-x-1")
    assert len(status.messages) == bounded.KEPT_MESSAGES
    assert status.earlier.messages == 500
    console = Console(width=300, record=True)
    console.print(status_view(status))
    text = console.export_text()
    assert "500 earlier messages, in the workflow histories of runs run-1 and of this run" in text
    report = build_report(status, "open")
    assert report.outcome.first_response_seconds == 0  # from the status, not the messages kept
    console.print(report_view(report))
    assert "500 earlier messages" in console.export_text()
    assert "500 earlier messages" in report_html(report)


def test_a_status_of_a_big_state_from_before_the_patch_is_bounded_too() -> None:
    state = inquiry_state()
    start = state.inquiry.created_at
    state.messages = [
        Message(at=start, direction="in", private=False, text=f"q{n}", by="jules", kind="message")
        for n in range(1_000)
    ]
    status = status_of(state, "inquiry-x-1")
    assert len(status.messages) == bounded.KEPT_MESSAGES
    assert status.earlier.messages == 900 and status.earlier.note(900, "messages") == (
        "900 earlier messages, in this run's workflow history"
    )
    assert len(state.messages) == 1_000  # the view only reads
