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
