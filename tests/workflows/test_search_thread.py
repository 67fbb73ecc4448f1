"""``CareThread``: an X inquiry's public tweet ids, bounded to what Temporal takes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.workflows.states import inquiry_state
from workflows import search
from workflows.state import Message

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _message(id: str, *, private: bool = False, also: list[str] | None = None) -> Message:
    return Message(
        at=AT,
        direction="out",
        private=private,
        text="t",
        by="ana",
        kind="reply",
        id=id,
        also=also or [],
    )


def test_the_thread_is_the_first_post_and_every_public_tweet_once() -> None:
    state = inquiry_state()
    state.messages += [
        _message("201", also=["202"]),  # a reply in two parts
        _message("dm-1", private=True),  # a DM is no tweet to reply to
        _message("201"),
    ]
    assert search.thread(state) == [state.inquiry.id, "201", "202"]


def test_a_long_thread_keeps_the_first_and_the_latest() -> None:
    state = inquiry_state()
    state.messages += [_message(str(1000 + n)) for n in range(100)]
    thread = search.thread(state)
    assert len(thread) == search.THREAD_LIMIT
    assert thread[0] == state.inquiry.id and thread[-1] == "1099"
    assert thread[1] == str(1100 - search.THREAD_LIMIT + 1)
    assert len(", ".join(thread).encode()) < 2048  # Temporal's default limit per value
