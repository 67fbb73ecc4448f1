"""Spot personal data in a public post (emails, order numbers, card and phone numbers).

Seeing any of these in public is a reason to move the conversation to a private channel; the
kinds found are the ``sensitive`` field that rules test.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ORDER = re.compile(
    r"(?i)(?<!\w)(?:order|ord|purchase)\s*(?:number|num|no\.?|id)?\s*[:#]?\s*#?"
    r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}(?!\w)"
)
_HASH_NUMBER = re.compile(r"(?<![\w#])#\d{5,}(?!\w)")
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d[\d \-().]{7,}\d(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_sensitive(text: str) -> list[str]:
    """The kinds of personal data in ``text``, in a fixed order: email, order_number, card_number, phone."""
    kinds: list[str] = []
    if _EMAIL.search(text):
        kinds.append("email")
    if _ORDER.search(text) or _HASH_NUMBER.search(text):
        kinds.append("order_number")
    card = phone = False
    for run in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", run.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits) and "(" not in run.group(0):
            card = True
        elif 10 <= len(digits) <= 15:
            phone = True
    if card:
        kinds.append("card_number")
    if phone:
        kinds.append("phone")
    return kinds
