"""Emerging phrases: what rises in recent inquiries, which no topic covers, never personal data."""

from __future__ import annotations

from careflow.engine.phrases import Document, emerging_phrases, phrases_of, words_runs
from careflow.engine.ruleset import ruleset_from_text
from tests.conftest import MINIMAL
from tests.engine.linear_time import MAX_SLOWDOWN, slowdown

RECENT = [
    "@acme the app keeps crashing when I pay, email me at ann.lee@example.com",
    "Your app keeps crashing on my phone!! call me on +1 415 555 0134",
    "app keeps crashing since the update. Order #884213",
    "since the update the app keeps crashing, card 4111 1111 1111 1111",
    "the site is down again",
    "where is my parcel? order number A12345-9",
    "where is my parcel, ordered last week",
    "love the new trail boots",
]
BASELINE = [
    "where is my parcel? it is late",
    "where is my parcel",
    "where is my parcel, tracking says nothing",
    "the site is down",
    "do you have the trail boots in size 44?",
    "love the trail boots",
]
TOPICS = MINIMAL.replace(
    "rules: []\n", "topics:\n  outage: {when: {text: {contains: down}}}\nrules: []\n"
)


def _documents(texts: list[str], prefix: str) -> list[Document]:
    return [Document(f"{prefix}{n}", text) for n, text in enumerate(texts)]


def test_the_rising_phrase_is_found_with_counts_ratio_and_examples() -> None:
    ruleset = ruleset_from_text(TOPICS, "r.yaml")
    found = emerging_phrases(
        _documents(RECENT, "r"), _documents(BASELINE, "b"), ruleset.topic_covers
    )
    assert [p.phrase for p in found] == ["app keeps crashing"]
    (crashing,) = found
    assert crashing.count == 4 and crashing.baseline == 0
    assert crashing.ratio == (4 / 8) / (1 / 8)
    assert crashing.examples == ["r0", "r1", "r2"]


def test_a_phrase_as_common_before_is_not_emerging_and_a_covered_one_is_left_out() -> None:
    ruleset = ruleset_from_text(TOPICS, "r.yaml")
    loose = emerging_phrases(
        _documents(RECENT, "r"),
        _documents(BASELINE, "b"),
        ruleset.topic_covers,
        min_count=2,
        min_ratio=1.5,
    )
    phrases = {p.phrase for p in loose}
    assert "parcel" not in phrases  # as common in the baseline
    assert not any("down" in p for p in phrases)  # the outage topic covers it
    assert "since the update" in phrases  # twice, never before ("update" alone adds nothing)
    assert "update" not in phrases


def test_no_personal_data_ever_becomes_a_phrase() -> None:
    every = set().union(*(phrases_of(text) for text in RECENT))
    joined = " | ".join(sorted(every))
    for private in ("ann", "example", "415", "555", "884213", "4111", "a12345", "acme"):
        assert private not in joined.split(" "), private
    assert not any(ch.isdigit() or ch in "@#:/" for ch in joined)


def test_punctuation_ends_a_phrase() -> None:
    assert words_runs("late again. refund now") == [["late", "again"], ["refund", "now"]]
    assert "again refund" not in phrases_of("late again. refund now")


def test_mining_time_grows_linearly_with_the_text() -> None:
    """Every phrase of a position is built from the words after it, never from the whole text."""
    assert (
        slowdown(phrases_of, "crashing app update, order parcel! ", large_size=256 * 1024)
        < MAX_SLOWDOWN
    )
