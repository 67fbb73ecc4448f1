"""Texts cut to a platform's length: X's way of counting, and numbered parts (``… (1/3)``).

X counts neither bytes nor code points: a URL is a t.co link of 23, CJK and emoji count 2. A text
is cut before posting so the platform never refuses it for its length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

X_URL_LENGTH = 23  # X counts every URL as a t.co link
HTTP_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# A bare domain X would link (acme.com/returns): counted as at least a URL, to be safe.
BARE_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/\S*)?", re.IGNORECASE)
URL_TRAILERS = ".,;:!?)]}'\""


def _x_weight(text: str) -> int:
    """X's weights: code points up to Ethiopic and some punctuation count 1, the rest 2."""
    total = 0
    for char in text:
        point = ord(char)
        light = (
            point <= 4351 or 8192 <= point <= 8205 or 8208 <= point <= 8223 or 8242 <= point <= 8247
        )
        total += 1 if light else 2
    return total


def x_length(text: str) -> int:
    """A text's length as X counts it, near enough and never less.

    After NFC normalisation, each ``http(s)://`` URL counts 23 (a t.co link; trailing
    punctuation counts on its own), a bare domain X would link counts at least 23, CJK and emoji
    count 2 and the rest 1. Simplifications, all erring long: an emoji sequence (ZWJ, skin tone,
    variation selector) counts 2 per code point where X counts 2 in all, and anything shaped like
    a domain (``sorted.Thanks``) counts as one.
    """
    total = 0
    for token in re.split(r"(\s+)", unicodedata.normalize("NFC", text)):
        if HTTP_URL.fullmatch(token):
            url = token.rstrip(URL_TRAILERS)
            total += X_URL_LENGTH + _x_weight(token[len(url) :])
        elif BARE_DOMAIN.search(token):
            total += max(X_URL_LENGTH, _x_weight(token))
        else:
            total += _x_weight(token)
    return total


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """``text`` in numbered parts (``… (1/3)``) of at most ``limit`` by ``length``.

    Parts end at whitespace, which is dropped there and kept inside a part (line breaks stay);
    a word longer than a part on its own is cut. A text within the limit is one part, unnumbered.
    """
    if length(text) <= limit:
        return [text]
    tokens = re.findall(r"\s+|\S+", text.strip())
    digits = 1
    while True:
        room = len(f" ({'9' * digits}/{'9' * digits})")
        pieces = _pack(tokens, limit - room, length)
        if len(str(len(pieces))) <= digits:
            count = len(pieces)
            return [f"{piece} ({n}/{count})" for n, piece in enumerate(pieces, 1)]
        digits += 1


def _pack(tokens: list[str], budget: int, length: Callable[[str], int]) -> list[str]:
    """Greedy: as many words as fit in each piece."""
    pieces: list[str] = []
    current = gap = ""
    for token in tokens:
        if token.isspace():
            gap = token if current else ""
            continue
        candidate = current + gap + token if current else token
        if length(candidate) <= budget:
            current, gap = candidate, ""
            continue
        if current:
            pieces.append(current)
        current = gap = ""
        while length(token) > budget:  # one word longer than a piece: cut it
            cut = max([n for n in range(1, len(token)) if length(token[:n]) <= budget], default=1)
            pieces.append(token[:cut])
            token = token[cut:]
        current = token
    if current:
        pieces.append(current)
    return pieces
