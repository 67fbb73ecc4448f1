"""``trends:``: a spike rule names a topic, templates and approvers that exist; bad ones are
reported at their line."""

from __future__ import annotations

from careflow.engine.checker import check_text
from careflow.engine.ruleset import ruleset_from_text
from tests.conftest import MINIMAL

GOOD = """\
targets:
  supervisors: {webhook: "https://hooks.example.com/sup"}
topics:
  outage: {when: {text: {contains: down}}}
trends:
  - name: outage-spike
    topic: outage
    min_count: 15
    window: 30m
    factor: 3
    template: outage_post
    approvers: supervisors
    wait: 1h
    reply_template: outage_reply
"""
TEMPLATES = """\
  outage_post: "We know {{ brand.name }} is down for some of you in {{ trend.segment }}: on it."
  outage_reply: "Sorry! We posted an update: {{ trend.post_url }}"
"""


def pack(trends: str = GOOD, templates: str = TEMPLATES) -> str:
    text = MINIMAL.replace("rules: []\n", trends + "rules: []\n")
    return text.replace(
        '  follow_up: "Is everything sorted?"\n',
        f'  follow_up: "Is everything sorted?"\n{templates}',
    )


def problems(text: str) -> list[str]:
    return [str(p) for p in check_text(text, "r.yaml").problems]


def test_a_good_trend_loads_with_its_defaults() -> None:
    assert problems(pack()) == []
    (trend,) = ruleset_from_text(pack(), "r.yaml").rule_file.trends
    assert (trend.topic, trend.min_count, trend.factor, trend.channel) == ("outage", 15, 3.0, "x")
    assert trend.segment is None  # each segment on its own


def test_an_unknown_topic_is_reported_at_its_line() -> None:
    assert problems(pack(GOOD.replace("topic: outage", "topic: outgae"))) == [
        "r.yaml:16:12: unknown topic 'outgae' (did you mean 'outage'?); define it under topics"
    ]


def test_a_threshold_of_zero_is_reported_at_its_line() -> None:
    assert problems(pack(GOOD.replace("min_count: 15", "min_count: 0"))) == [
        "r.yaml:17:16: must be at least 1"
    ]


def test_a_factor_below_one_is_reported() -> None:
    assert problems(pack(GOOD.replace("factor: 3", "factor: 0.5"))) == [
        "r.yaml:19:13: must be at least 1"
    ]


def test_a_missing_template_and_target_are_reported_at_their_lines() -> None:
    text = pack(
        GOOD.replace("template: outage_post", "template: outage_pots").replace(
            "approvers: supervisors", "approvers: managers"
        )
    )
    found = problems(text)
    assert (
        "r.yaml:20:15: unknown template 'outage_pots' (did you mean 'outage_post'?); "
        "define it under templates"
    ) in found
    assert "r.yaml:21:16: unknown notification target 'managers'; define it under targets" in found


def test_a_trend_template_reads_the_trend_not_an_inquiry() -> None:
    text = pack(templates='  outage_post: "Hi {{ author.name }}"\n  outage_reply: "ok"\n')
    (problem,) = problems(text)
    assert "unknown template variable 'author'" in problem
    assert problem.startswith("r.yaml:8:")


def test_a_missing_required_key_is_reported() -> None:
    assert problems(pack(GOOD.replace("    window: 30m\n", ""))) == [
        "r.yaml:15:5: missing required key 'window'"
    ]
