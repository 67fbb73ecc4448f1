"""Reject regular expressions that can backtrack exponentially on untrusted customer text.

Rules run ``matches`` on whatever customers post, so a pattern such as ``(a+)+$`` would let one
post stall a worker. Python's ``re`` backtracks; rather than swap engines (RE2 is slower on the
short texts careflow sees), patterns are checked once, when the rule file is checked, for the
shapes that cause exponential backtracking:

* a variable-length quantifier inside another quantifier, e.g. ``(\\w+\\s?)*``, ``(a{1,3})+``;
* alternatives under a quantifier that can start with the same character, e.g. ``(a|ab)*``;
* backreferences, e.g. ``(\\w+)\\1``.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]  # private, Python >= 3.11
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_MAXREPEAT = sre_constants.MAXREPEAT


class UnsafeRegexError(ValueError):
    """A pattern that does not compile or could backtrack catastrophically."""


def check_regex(pattern: str) -> None:
    """Raise UnsafeRegexError with a clear reason when ``pattern`` is unusable in a rule."""
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except re.error as error:
        raise UnsafeRegexError(f"invalid regular expression: {error}") from None
    _walk(list(parsed), inside_repeat=False)


def _walk(items: list[tuple[Any, Any]], inside_repeat: bool) -> None:
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise UnsafeRegexError("backreferences are not allowed in rule patterns")
        if op in _REPEATS:
            low, high, body = arg
            variable = high != low
            repeats = high == _MAXREPEAT or high > 1
            if inside_repeat and variable:
                raise UnsafeRegexError(
                    "nested quantifiers (a repeated group containing a variable repeat, like "
                    "(a+)+) can take exponential time on some texts; rewrite the pattern"
                )
            if repeats:
                _check_alternatives(list(body))
            _walk(list(body), inside_repeat=inside_repeat or repeats)
        elif op == sre_constants.SUBPATTERN:
            _walk(list(arg[-1]), inside_repeat)
        elif op == sre_constants.BRANCH:
            for branch in arg[1]:
                _walk(list(branch), inside_repeat)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(list(arg[1]), inside_repeat)
        elif op == sre_constants.ATOMIC_GROUP:
            _walk(list(arg), inside_repeat)


def _check_alternatives(body: list[tuple[Any, Any]]) -> None:
    """Alternatives under a quantifier must start with distinct literal characters."""
    for op, arg in body:
        if op == sre_constants.SUBPATTERN:
            _check_alternatives(list(arg[-1]))
        elif op == sre_constants.BRANCH:
            seen: set[str] = set()
            for branch in arg[1]:
                first = _first_literal(list(branch))
                if first is None or first in seen:
                    raise UnsafeRegexError(
                        "alternatives inside a repeated group may match the same text, which can "
                        "take exponential time; make each alternative start differently"
                    )
                seen.add(first)


def _first_literal(items: list[tuple[Any, Any]]) -> str | None:
    if not items:
        return None
    op, arg = items[0]
    if op == sre_constants.LITERAL:
        return chr(arg).casefold()
    if op == sre_constants.SUBPATTERN:
        return _first_literal(list(arg[-1]))
    return None


def fold(text: str) -> str:
    """Case-fold so that every pair of characters ``re.IGNORECASE`` equates becomes equal.

    ``str.casefold`` does that for all of Unicode but one pair: re also equates the Turkish
    dotless i (U+0131) with 'i' (checked exhaustively, see tests/engine/test_safe_regex.py).
    """
    return text.casefold().replace("\u0131", "i")


def required_literals(pattern: str) -> frozenset[str] | None:
    """Folded strings of which at least one occurs in the folded form of every text ``pattern``
    can match, or None when the pattern requires no literal text.

    Lets the evaluator skip a regex search with plain substring tests, as RE2 and Hyperscan do.
    Folding both sides keeps the test sound for patterns that ignore case and for those that
    don't (a substring of a text stays a substring once both are folded).
    """
    found = _factor(list(sre_parse.parse(pattern)))
    return frozenset(fold(s) for s in found) if found else None


def _factor(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The most selective set of alternatives one of which a sequence must contain."""
    candidates: list[set[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append({"".join(run)})
            run.clear()

    for op, arg in items:
        if op == sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        close_run()
        inner: set[str] | None = None
        if op == sre_constants.SUBPATTERN:
            inner = _factor(list(arg[-1]))
        elif op == sre_constants.BRANCH:
            parts = [_factor(list(branch)) for branch in arg[1]]
            if all(parts):
                inner = set().union(*(p for p in parts if p))
        elif op in _REPEATS and arg[0] >= 1:
            inner = _factor(list(arg[2]))
        if inner:
            candidates.append(inner)
    close_run()
    if not candidates:
        return None
    return max(candidates, key=lambda alternatives: min(len(s) for s in alternatives))
