"""Personal data in a public post is spotted so the rules can force the private step."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careflow.engine import sensitive
from careflow.engine.sensitive import find_sensitive
from tests.engine.linear_time import MAX_SLOWDOWN, slowdown


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("my email is ann.lee+x@example.co.uk", ["email"]),
        ("order #A12345 hasn't arrived", ["order_number"]),
        ("Order number: 1234567 please", ["order_number"]),
        ("#998877 where is it", ["order_number"]),
        ("card 4111 1111 1111 1111 charged twice", ["card_number"]),
        ("call me on +1 (212) 555-0199", ["phone"]),
        (
            "order #55512 to me@x.io, card 4111-1111-1111-1111",
            ["email", "order_number", "card_number"],
        ),
        ("4111 1111 1111 1112 fails the Luhn check", []),
        ("I waited 3 weeks for 2 items", []),
        ("order status please", []),
        ("#blessed #2026", []),
    ],
)
def test_kinds_found(text: str, kinds: list[str]) -> None:
    assert find_sensitive(text) == kinds


# ---------------------------------------------------------------- the first patterns, as reference

_OLD_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OLD_ORDER = re.compile(
    r"(?i)(?<!\w)(?:order|ord|purchase)\s*(?:number|num|no\.?|id)?\s*[:#]?\s*#?"
    r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}(?!\w)"
)
_OLD_HASH_NUMBER = re.compile(r"(?<![\w#])#\d{5,}(?!\w)")
_OLD_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d[\d \-().]{7,}\d(?!\w)")


def reference_find_sensitive(text: str) -> list[str]:
    """find_sensitive as first written: the answers the linear version must keep (replay)."""
    kinds: list[str] = []
    if _OLD_EMAIL.search(text):
        kinds.append("email")
    if _OLD_ORDER.search(text) or _OLD_HASH_NUMBER.search(text):
        kinds.append("order_number")
    card = phone = False
    for run in _OLD_DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", run.group(0))
        if 13 <= len(digits) <= 19 and sensitive._luhn_ok(digits) and "(" not in run.group(0):
            card = True
        elif 10 <= len(digits) <= 15:
            phone = True
    if card:
        kinds.append("card_number")
    if phone:
        kinds.append("phone")
    return kinds


# Pieces that make the patterns' edge cases likely: keywords and labels in any case, marks,
# separators, characters that ignore-case matching equates with ASCII letters (long s, Kelvin,
# dotless i, dotted I),
# non-ASCII digits and number-like letters (٣, ²), and whitespace of several kinds.
PIECES = [
    "order", "ORD", "Ord", "purchase", "PURCHASE", "purchaſe", "number", "num", "NO", "no.",
    "id", "İD", "ıd", "#", "##", ":", " ", "  ", "\t", "\n", "\u00a0", "-", "--", ".", "..", "+",
    "_", "@", "a", "Z", "x1", "K", "ſ", "0", "1", "4", "12345", "4111", "1111", "٣", "²", "(",
    ")", "é", "co", "uk", "example", "a-b", "🙂",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=24).map("".join) | st.text(max_size=30)


@settings(max_examples=3000, deadline=None)
@given(text=texts)
def test_the_linear_detectors_answer_as_the_first_patterns(text: str) -> None:
    assert (sensitive._EMAIL.search(text) is not None) is (_OLD_EMAIL.search(text) is not None)
    assert sensitive._has_order_number(text) is (_OLD_ORDER.search(text) is not None)
    assert find_sensitive(text) == reference_find_sensitive(text)


ADVERSARIAL = [
    pytest.param("a", "", id="a run"),
    pytest.param("@", "", id="@ run"),
    pytest.param(".", "", id="dot run"),
    pytest.param("1", "x", id="digit run then a letter"),
    pytest.param(".-_", "", id=".-_ mix"),
    pytest.param("a.", "", id="a. labels"),
    pytest.param("x@a.", "", id="addresses without a top-level domain"),
    pytest.param("ord-", "1", id="order keywords in one run"),
    pytest.param("ordA-", "", id="order keywords with ids and no digit"),
    pytest.param(" ", "x", id="spaces after a keyword"),
    pytest.param("order ", "", id="keywords and spaces"),
    pytest.param("1 ", "x", id="digits and spaces"),
    pytest.param("(1-", "a", id="phone separators"),
    pytest.param("#1", "x", id="hash numbers"),
    pytest.param("hello my order is late, mail me at ann@example.com ", "", id="prose"),
]


@pytest.mark.parametrize(("unit", "tail"), ADVERSARIAL)
def test_detection_time_grows_linearly(unit: str, tail: str) -> None:
    work = find_sensitive if unit != " " else lambda text: find_sensitive("order" + text)
    assert slowdown(work, unit, tail) < MAX_SLOWDOWN
