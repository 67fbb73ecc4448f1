"""Spot personal data in a public post (emails, order numbers, card and phone numbers).

Seeing any of these in public is a reason to move the conversation to a private channel; the
kinds found are the ``sensitive`` field that rules test.

Every detector takes time linear in the text's length: the engine runs on whatever customers post,
inside the workflow's task, and a 60 KB post once stalled it for seconds. The answers are exactly
those of the first, plainer patterns (kept in ``tests/engine/test_sensitive.py``, which proves the
two agree): those could try a match from every character of a long run, which is quadratic (and
cubic on ``order`` followed by spaces). Here each search starts only where a match can start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# An address is found from its '@': whatever run of local-part characters precedes it, a match
# needs only its last character, so a run of them without '@' is no longer retried from each one.
_EMAIL = re.compile(r"(?<=[\w.+-])@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An order number: a keyword, optional label, mark and '#' (each after optional spaces), then an
# id of at least five letters, digits or hyphens with a digit in its run.
_ORDER_KEYWORD = re.compile(r"(?i)(?<!\w)(?:order|ord|purchase)")
_ORDER_LABELS = tuple(
    re.compile(f"(?i){label}") for label in ("number", "num", "no", r"no\.", "id")
)
_SPACES = re.compile(r"\s*")
_ORDER_ID = re.compile(r"(?i)(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}(?!\w)")
_ID_START = re.compile(r"(?i)[A-Z0-9]")
_ID_RUN = re.compile(r"(?i)[A-Z0-9-]*")
_HASH_NUMBER = re.compile(r"(?<![\w#])#\d{5,}(?!\w)")
# Linear as it is: a match from a run's first digit ends at the run's last possible end, and
# what the search tries after it holds no digit followed by a separator.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d[\d \-().]{7,}\d(?!\w)")
_NOT_DIGIT = re.compile(r"\D")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _skip(run: re.Pattern[str], text: str, position: int) -> int:
    """Where the run of what ``run`` matches (possibly nothing) from ``position`` ends."""
    match = run.match(text, position)
    return match.end() if match else position


def _order_id_starts(text: str) -> Iterator[int]:
    """Where an order id may start: after each keyword, label, ``:``/``#`` and ``#``, each optional.

    Spaces are skipped whole: an id, a label or a mark never starts on a space, so no split of a
    run of spaces between the optional parts can lead anywhere else.
    """
    for keyword in _ORDER_KEYWORD.finditer(text):
        ends = {keyword.end()}
        if keyword.end() - keyword.start() == 5:  # 'order' also reads as 'ord' + 'er...'
            ends.add(keyword.start() + 3)
        for end in ends:
            label_at = _skip(_SPACES, text, end)
            after_label = {label_at}
            after_label.update(m.end() for p in _ORDER_LABELS if (m := p.match(text, label_at)))
            for position in after_label:
                mark_at = _skip(_SPACES, text, position)
                marks = (
                    {mark_at, mark_at + 1}
                    if text[mark_at : mark_at + 1] in (":", "#")
                    else {mark_at}
                )
                for after_mark in marks:
                    hash_at = _skip(_SPACES, text, after_mark)
                    yield hash_at
                    if text.startswith("#", hash_at):
                        yield hash_at + 1


def _has_order_number(text: str) -> bool:
    """Whether an order id follows a keyword, checking each run of id characters once.

    Within one run, an id that starts later has fewer characters to find its digit and its end
    in, so when the run's first possible start fails, every later start in the run fails too.
    """
    checked_to = -1
    for start in sorted(set(_order_id_starts(text))):
        if start < checked_to or not _ID_START.match(text, start):
            continue  # (the id's lookahead would scan the run even from a hyphen)
        if _ORDER_ID.match(text, start):
            return True
        checked_to = _skip(_ID_RUN, text, start)
    return False


def find_sensitive(text: str) -> list[str]:
    """The kinds of personal data in ``text``, in a fixed order: email, order_number, card_number, phone."""
    kinds: list[str] = []
    if _EMAIL.search(text):
        kinds.append("email")
    if _HASH_NUMBER.search(text) or _has_order_number(text):
        kinds.append("order_number")
    card = phone = False
    for run in _DIGIT_RUN.finditer(text):
        digits = _NOT_DIGIT.sub("", run.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits) and "(" not in run.group(0):
            card = True
        elif 10 <= len(digits) <= 15:
            phone = True
    if card:
        kinds.append("card_number")
    if phone:
        kinds.append("phone")
    return kinds
