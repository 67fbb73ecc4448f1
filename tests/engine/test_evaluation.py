"""Rule evaluation: file order, every match acts, later sets win, stop and drop end it, and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careflow.engine.conditions import CompiledCondition, parse_condition
from careflow.engine.post import Author, Inquiry
from careflow.engine.ruleset import Ruleset, ruleset_from_text
from tests.conftest import MINIMAL, dedent


def inquiry(text: str = "hello", **changes: Any) -> Inquiry:
    author = Author(id="1", handle="ann", name="Ann", followers=changes.pop("followers", 50))
    data: dict[str, Any] = {
        "id": "p1",
        "channel": "x",
        "kind": "public",
        "conversation_id": "c1",
        "author": author,
        "text": text,
        "created_at": datetime(2026, 11, 17, 15, 0, tzinfo=UTC),
    }
    data.update(changes)
    return Inquiry(**data)


def pack(rules_yaml: str) -> Ruleset:
    return ruleset_from_text(
        MINIMAL.replace("rules: []\n", "rules:\n" + dedent(rules_yaml)), "t.yaml"
    )


def matches(condition: dict[str, Any], ctx: dict[str, Any]) -> bool:
    return CompiledCondition(parse_condition(condition)).test(ctx)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("please rebalance my account", False),
        ("my balance is wrong", True),
        ("BALANCE?", True),
        ("balance-sheet", True),
        ("balances", False),
    ],
)
def test_contains_matches_whole_words_ignoring_case(text: str, expected: bool) -> None:
    assert matches({"text": {"contains": "balance"}}, {"text": text}) is expected


def test_contains_any_matches_phrases_across_whitespace() -> None:
    condition = {"text": {"contains_any": ["follow back", "giveaway"]}}
    assert matches(condition, {"text": "pls FOLLOW\n back"})
    assert not matches(condition, {"text": "follow us back"})
    assert not matches(condition, {"text": "giveaways"})


def test_phrases_with_symbols_are_literal() -> None:
    assert matches({"text": {"contains": "c++ (beta)"}}, {"text": "is C++ (beta) out?"})
    assert not matches({"text": {"contains": "a.b"}}, {"text": "axb"})


def test_missing_fields_never_raise() -> None:
    ctx: dict[str, Any] = {"author.followers": None}
    assert not matches({"author.followers": {"gte": 1}}, ctx)
    assert not matches({"author.followers": 0}, ctx)
    assert matches({"author.followers": {"ne": 5}}, ctx)
    assert matches({"author.followers": {"not_in": [5]}}, ctx)
    assert matches({"author.followers": {"exists": False}}, ctx)
    assert not matches({"text": {"matches": "x"}}, {})
    assert not matches({"tags": {"contains": "vip"}}, {})


def test_text_equality_ignores_case_but_numbers_are_exact() -> None:
    assert matches({"author.handle": "ANN"}, {"author.handle": "ann"})
    assert matches({"channel": {"in": ["X", "facebook"]}}, {"channel": "x"})
    assert not matches({"author.followers": {"in": [1, 2]}}, {"author.followers": 3})


def test_priority_compares_by_rank() -> None:
    assert matches({"priority": {"lt": "urgent"}}, {"priority": "high"})
    assert not matches({"priority": {"gte": "high"}}, {"priority": "normal"})


def test_matches_is_case_sensitive_unless_asked() -> None:
    assert not matches({"text": {"matches": "refund"}}, {"text": "REFUND now"})
    assert matches({"text": {"matches": "(?i)refund"}}, {"text": "REFUND now"})


def test_all_any_not() -> None:
    condition = {
        "any": [{"text": {"contains": "late"}}, {"not": {"kind": "public"}}],
        "channel": "x",
    }
    assert matches(condition, {"text": "so late", "kind": "public", "channel": "x"})
    assert matches(condition, {"text": "hi", "kind": "private", "channel": "x"})
    assert not matches(condition, {"text": "hi", "kind": "public", "channel": "x"})
    assert not matches(condition, {"text": "late", "kind": "public", "channel": "facebook"})


def test_every_matching_rule_acts_in_file_order_and_later_set_wins() -> None:
    ruleset = pack(
        """\
        - name: first
          on: received
          when: {text: {contains: late}}
          do: [{set: {category: late_delivery, queue: logistics}}]
        - name: second
          on: received
          when: {category: late_delivery}
          do: [{set: {queue: vip}}, {tag: [a, b]}, {tag: a}]
        - name: other-event
          on: customer.message
          do: [{tag: never}]
        """
    )
    decision = ruleset.evaluate("received", inquiry("parcel is late"))
    assert decision.fired == ["first", "second"]
    assert decision.values.category == "late_delivery"
    assert decision.values.queue == "vip"
    assert decision.values.tags == ("a", "b")
    assert decision.values.priority == "normal"  # from defaults
    assert decision.why["second"] == ["category eq 'late_delivery' (was 'late_delivery')"]
    assert [a.kind for a in decision.actions] == ["set", "set", "tag", "tag"]


def test_stop_and_drop_end_evaluation() -> None:
    ruleset = pack(
        """\
        - name: spam
          on: received
          when: {text: {contains: giveaway}}
          do: [{drop: spam}, {tag: unreachable}]
        - name: vip
          on: received
          when: {author.followers: {gte: 1000}}
          do: [{set: {priority: urgent}}]
          stop: true
        - name: after-stop
          on: received
          do: [{tag: seen}]
        """
    )
    dropped = ruleset.evaluate("received", inquiry("giveaway!", followers=5000))
    assert (dropped.dropped, dropped.drop_reason, dropped.fired) == (True, "spam", ["spam"])
    assert [a.kind for a in dropped.actions] == ["drop"]
    stopped = ruleset.evaluate("received", inquiry("hi", followers=5000))
    assert stopped.fired == ["vip"]
    plain = ruleset.evaluate("received", inquiry("hi"))
    assert plain.fired == ["after-stop"] and plain.why["after-stop"] == ["always"]


def test_rule_on_several_events_and_event_fields() -> None:
    ruleset = pack(
        """\
        - name: angry
          on: [customer.message, follow_up.reply]
          when: {message.text: {contains_any: [useless, terrible]}}
          do: [{set: {priority: high}}]
        """
    )
    fields = {"message.text": "Useless.", "message.private": True}
    for event in ("customer.message", "follow_up.reply"):
        assert ruleset.evaluate(event, inquiry(), extra=fields).values.priority == "high"
    assert ruleset.evaluate("received", inquiry("useless")).fired == []


def test_sensitive_data_is_detected_for_rules() -> None:
    ruleset = pack(
        """\
        - name: personal
          on: received
          when: {sensitive: {contains_any: [email, card_number]}}
          do: [{tag: personal-data}]
        """
    )
    decision = ruleset.evaluate("received", inquiry("reach me at ann@example.com"))
    assert decision.values.tags == ("personal-data",)
    assert decision.why["personal"] == [
        "sensitive contains_any ['email', 'card_number'] (was ['email'])"
    ]
    assert ruleset.evaluate("received", inquiry("no data here")).fired == []


def test_why_explains_any_and_not() -> None:
    condition = CompiledCondition(
        parse_condition({"any": [{"text": {"contains": "late"}}, {"author.verified": True}],
                         "not": {"channel": "facebook"}})
    )  # fmt: skip
    ctx = {"text": "so late", "author.verified": False, "channel": "x"}
    assert condition.explain(ctx) == [
        "text contains 'late' (matched 'late')",
        "not channel eq 'facebook' (was 'x')",
    ]


def test_same_file_same_digest_and_a_change_changes_it() -> None:
    one = pack("- {name: a, on: received, do: [{tag: x}]}\n")
    two = pack("- {name: a, on: received, do: [{tag: x}]}\n")
    three = pack("- {name: a, on: received, do: [{tag: y}]}\n")
    assert one.digest == two.digest != three.digest
