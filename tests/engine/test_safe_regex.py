"""Patterns that could stall a worker on a hostile post are refused when the rules are checked."""

from __future__ import annotations

import re
import time

import pytest

from careflow.engine.safe_regex import UnsafeRegexError, check_regex


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)\b(late|hasn't arrived|where is my (order|package))\b",
        r"\border\s*#?\d{5,}",
        r"(?:\d{3}-)*\d{4}",
        r"(foo|bar)+",
        r"(\w|\d)+$",
        r"^RT @\w+:",
    ],
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    check_regex(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+$", "nested quantifiers"),
        (r"(\w+\s?)*$", "nested quantifiers"),
        (r"(a{1,3})+", "nested quantifiers"),
        (r"(.*a){12}", "nested quantifiers"),
        (r"(a|ab)*c", "alternatives inside a repeated group"),
        (r"(x|x)+y", "alternatives inside a repeated group"),
        (r"(\w+)\1", "backreferences"),
        (r"[unclosed", "invalid regular expression"),
    ],
)
def test_dangerous_patterns_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(UnsafeRegexError, match=re.escape(reason)):
        check_regex(pattern)


def test_a_refused_pattern_really_is_slow_and_its_rewrite_is_not() -> None:
    """Why the check exists: (a+)+$ takes exponential time on 'aaaa…!' while a+$ does not."""
    hostile = "a" * 22 + "!"
    started = time.perf_counter()
    assert re.search(r"(a+)+$", hostile) is None
    slow = time.perf_counter() - started
    started = time.perf_counter()
    assert re.search(r"a+$", hostile) is None
    fast = time.perf_counter() - started
    assert slow > 50 * fast


def test_fold_equates_everything_ignorecase_equates() -> None:
    """re.IGNORECASE equates characters with equal lower() or listed in re's extra cases; fold()
    must map each such pair to equal strings, or the literal prefilter could skip a real match."""
    import sys
    from re import _casefix  # type: ignore[attr-defined]

    from careflow.engine.safe_regex import fold

    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert fold(char) == fold(char.lower()), hex(code)
    for code, others in _casefix._EXTRA_CASES.items():
        for other in others:
            assert fold(chr(code)) == fold(chr(other)), (hex(code), hex(other))


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"(?i)\b(cancel|cancelled|canceled)\b", {"cancel"}),
        (r"(?i)https?://\S+", {"http"}),
        (r"^RT @\w+:", {"rt @"}),
        (r"(?i)where is my (order|parcel)|tracking", {"where is my ", "tracking"}),
        (r"(?:ab)?c", {"c"}),
        (r"\d{5,}", None),
        (r"a|\d", None),
    ],
)
def test_required_literals(pattern: str, literals: set[str] | None) -> None:
    from careflow.engine.safe_regex import required_literals

    found = required_literals(pattern)
    assert (set(found) if found is not None else None) == literals
