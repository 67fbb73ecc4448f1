"""The rules read a text up to its channel's limit when asked, and evaluate any text in linear time."""

from __future__ import annotations

import pytest

from careflow.engine.limits import evaluated_text
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK
from tests.engine.linear_time import MAX_SLOWDOWN, slowdown
from tests.engine.test_evaluation import inquiry, pack

RULES = pack(
    """\
    - {name: refund, on: [received, customer.message], when: {text: {contains: refund}}, do: [{tag: money}]}
    - {name: card, on: received, when: {sensitive: {contains: card_number}}, do: [{tag: card}]}
    - {name: again, on: customer.message, when: {message.text: {contains: again}}, do: [{tag: again}]}
    """
)
PADDING = "word " * 1_000  # 5,000 characters: past X's 4,000 for a public post


def test_each_channel_has_its_platforms_limit() -> None:
    assert len(evaluated_text("x" * 20_000, "x", "public")) == 4_000
    assert len(evaluated_text("x" * 20_000, "x", "private")) == 10_000
    assert len(evaluated_text("x" * 20_000, "facebook", "public")) == 8_000
    assert len(evaluated_text("x" * 20_000, "instagram", "public")) == 2_200
    assert len(evaluated_text("x" * 20_000, "messenger", "private")) == 2_000
    assert len(evaluated_text("x" * 20_000, "webchat", "private")) == 10_000
    assert evaluated_text("short", "x", "public") == "short"


def test_by_default_the_whole_text_is_read_as_recorded_histories_were() -> None:
    post = inquiry(PADDING + "refund please")
    assert RULES.evaluate("received", post).fired == ["refund"]


def test_bounded_the_rules_read_up_to_the_limit_and_the_inquiry_keeps_it_all() -> None:
    post = inquiry(PADDING + "refund please, card 4111 1111 1111 1111")
    decision = RULES.evaluate("received", post, bounded=True)
    assert decision.fired == ["card"]  # personal data anywhere still counts
    assert len(post.text) > 5_000
    assert RULES.evaluate("received", inquiry("refund " + PADDING), bounded=True).fired == [
        "refund"
    ]


def test_bounded_a_message_is_read_up_to_the_limit_of_where_it_was_written() -> None:
    def fired(private: bool) -> list[str]:
        extra = {"message.text": PADDING + "again", "message.private": private}
        return RULES.evaluate("customer.message", inquiry(), extra=extra, bounded=True).fired

    assert fired(private=False) == []  # 4,000 in public on X
    assert fired(private=True) == ["again"]  # 10,000 in an X DM


DEFAULT = load_ruleset(DEFAULT_PACK)


@pytest.mark.parametrize(
    "unit",
    [
        pytest.param("a", id="a run"),
        pytest.param("@", id="@ run"),
        pytest.param(".", id="dot run"),
        pytest.param("1", id="digit run"),
        pytest.param(".-_", id=".-_ mix"),
        pytest.param("order ", id="keywords and spaces"),
        pytest.param("my order #12345 is late, mail ann@example.com ", id="prose"),
    ],
)
@pytest.mark.parametrize("bounded", [False, True], ids=["whole text", "bounded"])
def test_a_received_evaluation_grows_linearly(unit: str, bounded: bool) -> None:
    def evaluate(text: str) -> object:
        return DEFAULT.evaluate("received", inquiry(text), bounded=bounded)

    assert slowdown(evaluate, unit) < MAX_SLOWDOWN
