"""The follow-up's answer read as a score, as a person would read it, and `rules check` on
``flow.follow_up.rating``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careflow.engine.checker import check_text
from careflow.engine.rating import RatingReader, level_on_scale
from careflow.engine.ruleset import ruleset_from_text
from tests.conftest import MINIMAL
from tests.engine.linear_time import MAX_SLOWDOWN, slowdown
from tests.harness import example

FIVE = RatingReader(5, ["en", "fr", "es", "de"], {"chef's kiss": 5})


@pytest.mark.parametrize(
    ("text", "score", "comment", "form"),
    [
        ("5", 5, None, "number"),
        ("  4!", 4, None, "number"),
        ("4 - quick and friendly", 4, "quick and friendly", "number"),
        ("5 thanks!", 5, "thanks!", "number"),
        ("1. Still no refund", 1, "Still no refund", "number"),
        ("4/5", 4, None, "fraction"),
        ("I'd say 3 / 5, slow but fine", 3, "I'd say 3 / 5, slow but fine", "fraction"),
        ("8/10", 4, None, "fraction"),
        ("2 out of 5", 2, None, "fraction"),
        ("★★★★☆", 4, None, "stars"),
        ("⭐⭐⭐⭐⭐ loved it", 5, "loved it", "stars"),
        ("👍", 4, None, "emoji"),
        ("😡 never again", 1, "😡 never again", "emoji"),
        ("Great!", 5, None, "words"),
        ("terrible", 1, None, "words"),
        ("terrible service, still no refund", 1, "terrible service, still no refund", "words"),
        ("not happy", 2, None, "words"),
        ("not bad", 4, None, "words"),
        ("c'était très bien, merci", 5, "c'était très bien, merci", "words"),
        ("muy bueno", 5, None, "words"),
        ("sehr zufrieden", 5, None, "words"),
        ("chef’s kiss", 5, None, "words"),  # the rule file's own words
    ],
)
def test_each_answer_form_is_read_as_a_score(
    text: str, score: int, comment: str | None, form: str
) -> None:
    rating = FIVE.read(text)
    assert rating is not None, text
    assert (rating.score, rating.comment, rating.form) == (score, comment, form)


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "what do you mean?",
        "I ordered 3 items",
        "3 items arrived, one is missing",
        "2nd time I ask",
        "10:30 and still nothing",
        "7",  # above the scale
        "6/5",
        "where is my parcel",
        "",
    ],
)
def test_a_non_answer_is_not_a_rating(text: str) -> None:
    assert FIVE.read(text) is None


def test_only_the_languages_the_rule_file_lists() -> None:
    english = RatingReader(5, ["en"], {})
    assert english.read("super") is None  # French, German, Dutch: not listed
    assert FIVE.read("super") is not None


def test_other_scales() -> None:
    ten = RatingReader(10, ["en"], {})
    assert ten.read("great").score == 10  # type: ignore[union-attr]
    assert ten.read("4/5").score == 8  # type: ignore[union-attr]
    assert ten.read("9").score == 9  # type: ignore[union-attr]
    three = RatingReader(3, ["en"], {})
    assert three.read("5") is None
    assert [level_on_scale(level, 3) for level in range(1, 6)] == [1, 2, 2, 3, 3]


@pytest.mark.parametrize("unit", ["great ", "4/5 ", "★", "not ", "1 ", "a😐"])
def test_reading_is_linear_in_the_text(unit: str) -> None:
    assert slowdown(FIVE.read, unit, large_size=256 * 1024) < MAX_SLOWDOWN


def problems(rating: str, templates: str = "") -> list[str]:
    text = MINIMAL.replace(
        "rules: []\n", f"flow:\n  follow_up:\n    rating: {rating}\nrules: []\n"
    ).replace('  follow_up: "Is everything sorted?"\n', f'  follow_up: "Sorted?"\n{templates}')
    return [str(p) for p in check_text(text, "r.yaml").problems]


def test_rules_check_validates_the_rating_section() -> None:
    assert problems("{scale: 5, languages: [en, fr], words: {top: 5}}") == []
    assert problems("{languages: [en, klingon, frr]}") == [
        "r.yaml:10:30: careflow has no rating words for language 'klingon': use en, fr, es, "
        "de, pt, it, nl, and add your own under words",
        "r.yaml:10:39: careflow has no rating words for language 'frr' (did you mean 'fr'?): "
        "use en, fr, es, de, pt, it, nl, and add your own under words",
    ]
    assert problems("{scale: 3, words: {wow: 5}}") == [
        "r.yaml:10:37: score 5 for 'wow' is above the scale (1 to 3)"
    ]
    assert problems("{template: rate_us}") == [
        "r.yaml:10:24: unknown template 'rate_us'; define it under templates"
    ]
    assert problems("{template: rate_us}", '  rate_us: "Rate us 1-5"\n') == []
    assert problems("{scale: 11}") == ["r.yaml:10:21: 11 is greater than the maximum of 10"]


def test_the_rating_rules_see_score_and_comment() -> None:
    text = MINIMAL.replace(
        "rules: []\n",
        "rules:\n"
        "  - {name: low, on: follow_up.rating, when: {rating.score: {lte: 2}}, do: [{reopen: low}]}\n"
        "  - name: said-why\n"
        "    on: follow_up.rating\n"
        "    when: {rating.comment: {contains: refund}}\n"
        "    do: [{tag: refund}]\n",
    )
    ruleset = ruleset_from_text(text, "r.yaml")
    inquiry = example("warranty", datetime.now(UTC))
    decision = ruleset.evaluate(
        "follow_up.rating",
        inquiry,
        extra={
            "rating.score": 1,
            "rating.comment": "no refund yet",
            "message.text": "1 no refund yet",
        },
    )
    assert decision.fired == ["low", "said-why"]
    wrong = MINIMAL.replace(
        "rules: []\n",
        "rules:\n  - {name: r, on: follow_up.reply, when: {rating.score: 1}, do: [{tag: x}]}\n",
    )
    assert any(
        "'rating.score' has no value on follow_up.reply" in str(p)
        for p in check_text(wrong, "r.yaml").problems
    )


def qa_problems(section: str) -> list[str]:
    text = MINIMAL.replace("rules: []\n", "rules: []\n" + section)
    return [str(p) for p in check_text(text, "r.yaml").problems]


QA_OK = """\
qa:
  rubric:
    version: v1
    criteria:
      empathy: {scale: 5, description: Kind}
  sampling:
    share: 10%
    when: {any: [{reopens: {gte: 1}}, {rating.score: {lte: 2}}, {tags: {contains: vip}}]}
"""


def test_rules_check_validates_the_qa_section() -> None:
    assert qa_problems(QA_OK) == []
    assert qa_problems(QA_OK.replace("share: 10%", "share: 10 percent")) == [
        "r.yaml:15:12: '10 percent' is not a share: use a whole percentage from 0% to 100%, e.g. 10%"
    ]
    assert qa_problems(QA_OK.replace("{reopens: {gte: 1}}", "{message.text: {contains: x}}")) == [
        "r.yaml:16:19: field 'message.text' has no value when an inquiry closes, when sampling "
        "decides"
    ]
    unknown = qa_problems(QA_OK.replace("{reopens: {gte: 1}}", "{windows: {eq: vip}}"))
    assert len(unknown) == 1 and "r.yaml:16:" in unknown[0] and "'vip'" in unknown[0]
    assert qa_problems(QA_OK.replace("scale: 5, ", "scale: 11, ")) == [
        "r.yaml:13:24: 11 is greater than the maximum of 10"
    ]
    assert qa_problems(
        QA_OK.replace("      empathy: {scale: 5, description: Kind}\n", "      {}\n")
    )
