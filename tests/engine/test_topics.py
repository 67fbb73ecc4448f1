"""``topics:`` and segments: what an inquiry is about and who sent it, checked and explained."""

from __future__ import annotations

from careflow.engine.checker import check_text
from careflow.engine.explain import explain, format_explanation
from careflow.engine.ruleset import ruleset_from_text
from tests.conftest import MINIMAL, dedent
from tests.engine.test_evaluation import inquiry

TOPICS = """\
topics:
  outage:
    description: the app or site is down
    when: {text: {contains_any: [down, outage, "not loading"]}}
  refund:
    when: {any: [{text: {contains: refund}}, {text: {matches: "(?i)money back"}}]}
  vip:
    when: {author.followers: {gte: 10000}}
"""

SEGMENTS = """\
rules:
  - name: denver
    on: received
    when: {text: {contains: denver}}
    do: [{set: {segment: denver}}]
  - name: denver-outage-queue
    on: received
    when: {segment: denver}
    do: [{set: {queue: denver-desk}}]
"""


def pack_text(extra: str = TOPICS, rules: str = SEGMENTS, defaults: str = "") -> str:
    text = MINIMAL.replace("rules: []\n", extra + rules)
    if defaults:
        text = text.replace("privatize: never}", f"privatize: never, {defaults}}}")
    return text


def problems(text: str) -> list[str]:
    return [str(p) for p in check_text(text, "r.yaml").problems]


def test_an_inquiry_is_tagged_with_every_topic_it_matches_in_file_order() -> None:
    ruleset = ruleset_from_text(pack_text(), "r.yaml")
    post = inquiry("The app is down and I want a refund", followers=20000)
    assert ruleset.topics_of(post, ruleset.defaults) == ["outage", "refund", "vip"]
    assert ruleset.topics_of(inquiry("hello there"), ruleset.defaults) == []


def test_a_later_message_is_tagged_by_its_own_text() -> None:
    ruleset = ruleset_from_text(pack_text(), "r.yaml")
    post = inquiry("hello")
    assert ruleset.topics_of(post, ruleset.defaults, "I want my money back") == ["refund"]


def test_the_segment_comes_from_rules_else_the_default() -> None:
    ruleset = ruleset_from_text(pack_text(defaults="segment: retail"), "r.yaml")
    in_denver = ruleset.evaluate("received", inquiry("Power out in Denver"))
    assert in_denver.values.segment == "denver"
    assert in_denver.values.queue == "denver-desk"  # a later rule reads the segment
    elsewhere = ruleset.evaluate("received", inquiry("Power out in Austin"))
    assert elsewhere.values.segment == "retail"
    assert elsewhere.values.queue == "general"


def test_the_segment_defaults_to_general() -> None:
    ruleset = ruleset_from_text(MINIMAL, "r.yaml")
    assert ruleset.evaluate("received", inquiry("hi")).values.segment == "general"


def test_explain_shows_the_segment_and_why_each_topic_matched() -> None:
    ruleset = ruleset_from_text(pack_text(), "r.yaml")
    report = explain(ruleset, inquiry("Denver: the site is down"))
    assert report["segment"] == "denver"
    assert list(report["topics"]) == ["outage"]
    assert "down" in report["topics"]["outage"][0]
    text = format_explanation(report)
    assert "segment denver" in text
    assert "topic outage: because" in text


def test_good_topics_and_segments_pass_the_check() -> None:
    assert problems(pack_text(defaults="segment: retail")) == []


def test_a_topic_without_a_condition_is_reported_at_its_line() -> None:
    text = pack_text(extra="topics:\n  outage: {description: down}\n", rules="rules: []\n")
    assert problems(text) == ["r.yaml:9:3: missing required key 'when'"]


def test_a_topic_on_a_message_field_is_reported_at_its_line() -> None:
    text = pack_text(
        extra="topics:\n  outage:\n    when: {message.text: {contains: down}}\n",
        rules="rules: []\n",
    )
    (problem,) = problems(text)
    assert problem.startswith("r.yaml:10:12: field 'message.text' has no value on received")


def test_an_unsafe_regex_in_a_topic_is_reported_at_its_line() -> None:
    text = pack_text(
        extra='topics:\n  slow:\n    when: {text: {matches: "(a+)+$"}}\n', rules="rules: []\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("r.yaml:10:28:")


def test_an_empty_segment_is_reported_at_its_line() -> None:
    text = pack_text(
        extra="",
        rules=dedent("""\
            rules:
              - name: s
                on: received
                do: [{set: {segment: ""}}]
            """),
    )
    assert problems(text) == ["r.yaml:11:26: must not be empty"]
