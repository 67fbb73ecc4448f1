"""An inquiry's topics: the post's, then each new customer message's, and as visibility tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.workflows.states import RULES, inquiry_state
from workflows import search
from workflows.bounded import KEPT_MESSAGES, trim
from workflows.state import Message
from workflows.topics import TopicTracker

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _message(text: str, direction: str = "in") -> Message:
    return Message(
        at=AT,
        direction=direction,
        private=False,
        text=text,
        by="jules",
        kind="message",
    )


def test_topics_grow_with_customer_messages_but_not_with_replies() -> None:
    state = inquiry_state()
    tracker = TopicTracker()
    assert tracker.update(state, RULES) == []  # trail boots in size 44: no topic
    state.messages.append(_message("Sorry, is checkout broken?", direction="out"))
    assert tracker.update(state, RULES) == []  # the brand's words tag nothing
    state.messages.append(_message("checkout says payment failed"))
    assert tracker.update(state, RULES) == ["checkout"]
    state.messages.append(_message("now I just want a refund"))
    assert tracker.update(state, RULES) == ["checkout", "refund"]


def test_a_new_run_finds_the_same_topics_from_the_carried_messages() -> None:
    state = inquiry_state()
    state.messages += [_message("the site is down"), _message("refund please")]
    assert TopicTracker().update(state, RULES) == ["outage", "refund"]


def test_a_long_conversation_keeps_tagging_and_carries_what_it_let_go() -> None:
    # The bounded state keeps only the latest messages: a topic met early must survive the trim
    # and a new run, and messages arriving once the list is full must still be tested.
    state = inquiry_state()
    tracker = TopicTracker()
    state.messages.append(_message("the site is down"))
    state.messages += [_message(f"any news? ({n})") for n in range(KEPT_MESSAGES + 5)]
    assert tracker.update(state, RULES) == ["outage"]
    trim(state)
    assert len(state.messages) == KEPT_MESSAGES and state.earlier.messages == 6
    state.messages.append(_message("refund please"))
    trim(state)
    assert tracker.update(state, RULES) == ["outage", "refund"]
    carried = state.model_copy(deep=True)  # continue-as-new: a fresh tracker in the next run
    assert TopicTracker().update(carried, RULES) == ["outage", "refund"]


def test_topic_tokens_are_single_words_that_never_collide() -> None:
    assert search.topic_token("outage") == "outage"
    assert search.topic_token("Late_Delivery") == "latexudelivery"
    tokens = {search.topic_token(n) for n in ["a_b", "a-b", "a.b", "axb", "axub", "ab"]}
    assert len(tokens) == 6
    assert all(token.isalnum() for token in tokens)
    assert search.topics_text([]) is None
    assert search.topics_text(["outage", "a.b"]) == "outage axpb"
