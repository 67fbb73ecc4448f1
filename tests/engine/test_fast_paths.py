"""The evaluator's shortcuts never change an answer: each is checked against a plain reference."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from careflow.engine.conditions import CompiledCondition, parse_condition
from careflow.engine.ruleset import ruleset_from_text
from tests.conftest import MINIMAL
from tests.engine.test_evaluation import inquiry

VOCABULARY = [
    "late", "Late", "LATE", "latest", "chocolate", "follow", "back", "follow-back", "cancel",
    "cancelled", "CANCELLED", "http://x.io", "HTTPS://y", "RT", "@acme:", "order", "#12345",
    "hasn't", "arrived", "ı", "İ", "I", "straße", "STRASSE", "ſ", "K", "!", "!!", "?", "_x_",
    "e-gift", "gift", "\n", "  ", "\t", "café", "CAFÉ", "naïve", "😀",
]  # fmt: skip
texts = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(lambda ws: " ".join(ws)) | st.text(
    max_size=40
)

PATTERNS = [
    r"(?i)\b(cancel|cancelled|canceled)\b",
    r"(?i)https?://\S+",
    r"^RT @\w+:",
    r"(?i)\b(late|hasn't arrived|where is my (order|parcel))\b",
    r"#\d{5,}",
    r"!{2,}",
    r"\?\s*$",
    r"(?i)I",
    r"(?i)stra(ss|ß)e",
    r"(?i:caf)é",
    r"K",
]


@settings(max_examples=400, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=texts)
def test_prefiltered_regex_agrees_with_re_search(pattern: str, text: str) -> None:
    condition = CompiledCondition(parse_condition({"text": {"matches": pattern}}))
    assert condition.test({"text": text}) is (re.search(pattern, text) is not None)


def reference_contains(phrase: str, text: str) -> bool:
    """The documented meaning: folded, whitespace collapsed, no word character touching it."""
    folded = " ".join(text.casefold().split())
    needle = " ".join(phrase.casefold().split())
    pattern = r"(?<!\w)" + re.escape(needle) + r"(?!\w)"
    return re.search(pattern, folded) is not None


PHRASES = [
    "late",
    "follow back",
    "hasn't arrived",
    "e-gift",
    "gift",
    "café",
    "straße",
    "#12345",
    "!!",
]


@settings(max_examples=400, deadline=None)
@given(phrases=st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3), text=texts)
def test_phrase_matching_agrees_with_its_definition(phrases: list[str], text: str) -> None:
    condition = CompiledCondition(parse_condition({"text": {"contains_any": phrases}}))
    expected = any(reference_contains(p, text) for p in phrases)
    assert condition.test({"text": text}) is expected


def _indexed_pack() -> Any:
    rules = "\n".join(
        f"""\
- name: r{i}
  on: received
  when: {when}
  do: [{{tag: t{i}}}]"""
        for i, when in enumerate(
            [
                '{text: {contains_any: [late, "follow back"]}}',
                '{text: {contains: "hasn\'t arrived"}, kind: public}',
                '{text: {contains_any: ["!!", gift]}}',
                "{any: [{text: {contains: cancel}}, {author.followers: {gte: 10}}]}",
                "{text: {matches: '(?i)https?://'}}",
                "{tags: {contains: t0}}",
                "{text: {contains: café}}",
            ]
        )
    )
    return ruleset_from_text(MINIMAL.replace("rules: []\n", "rules:\n" + rules + "\n"), "p.yaml")


PACK = _indexed_pack()


@settings(max_examples=300, deadline=None)
@given(text=texts, followers=st.integers(0, 20))
def test_rule_index_fires_exactly_the_rules_a_full_scan_fires(text: str, followers: int) -> None:
    post = inquiry(text, followers=followers)
    fired = PACK.evaluate("received", post).fired
    ctx = PACK.context(post, PACK.defaults)
    expected = []
    for rule in PACK.rule_file.rules:
        assert rule.when is not None
        if CompiledCondition(rule.when).test(ctx):
            expected.append(rule.name)
            if rule.name == "r0":
                ctx["tags"] = ["t0"]
    assert fired == expected
