"""Texts cut to a platform's length: X's way of counting, and numbered parts (``… (1/3)``).

X counts neither bytes nor code points: a URL is a t.co link of 23, CJK and emoji count 2. A text
is cut before posting so the platform never refuses it for its length. These are pure functions
in the engine because both sides need them: the X adapter cuts a reply into a thread, and the
workflow's reply validator counts the parts before accepting an agent's reply.

Both take time close to linear in the text: a reply is counted once, word by word, not re-counted
from its start for each word (a 63 KB reply took 0.7 s, a 3,000-character word 5 minutes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

X_TEXT_LIMIT = 280  # a post on X, as x_length counts
X_DM_LIMIT = 10_000  # a direct message on X
X_URL_LENGTH = 23  # X counts every URL as a t.co link
HTTP_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# A bare domain X would link (acme.com/returns) counts as at least a URL, to be safe. A word holds
# one (``(?:[a-z0-9-]+\.)+[a-z]{2,}``) exactly where it holds its last three characters around a
# dot, which a search finds in linear time (the full pattern is quadratic on a long word).
DOMAIN_SHAPE = re.compile(r"[a-z0-9-]\.[a-z]{2}", re.IGNORECASE)
URL_TRAILERS = ".,;:!?)]}'\""
_TOKENS = re.compile(r"\s+|\S+")
# What X counts 2: every code point but those up to U+10FF and three ranges of punctuation.
_HEAVY = re.compile("[^\x00-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


def _x_weight(text: str) -> int:
    """X's weights: code points up to Ethiopic and some punctuation count 1, the rest 2."""
    return len(text) + len(_HEAVY.findall(text))


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
        elif DOMAIN_SHAPE.search(token):
            total += max(X_URL_LENGTH, _x_weight(token))
        else:
            total += _x_weight(token)
    return total


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """``text`` in numbered parts (``… (1/3)``) of at most ``limit`` by ``length``.

    Parts end at whitespace, which is dropped there and kept inside a part (line breaks stay);
    a word longer than a part on its own is cut. A text within the limit is one part, unnumbered.
    ``length`` must add up over words and the whitespace between them, as ``len`` and
    ``x_length`` do: a part's length is kept as a sum, not counted again for each word.
    """
    if length(text) <= limit:
        return [text]
    tokens = [(token, length(token)) for token in _TOKENS.findall(text.strip())]
    digits = 1
    while True:
        room = len(f" ({'9' * digits}/{'9' * digits})")
        pieces = _pack(tokens, limit - room, length)
        if len(str(len(pieces))) <= digits:
            count = len(pieces)
            return [f"{piece} ({n}/{count})" for n, piece in enumerate(pieces, 1)]
        digits += 1


def signed(text: str, agent: str) -> str:
    """An agent's words as posted: their name after a caret, as brands sign shared accounts."""
    return f"{text} ^{agent}"


def x_thread_parts(text: str) -> int:
    """How many posts a public reply takes on X: one, or the parts of its thread."""
    return len(split_text(text, X_TEXT_LIMIT, x_length))


def _pack(tokens: list[tuple[str, int]], budget: int, length: Callable[[str], int]) -> list[str]:
    """Greedy: as many words as fit in each piece."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    gap, gap_length = "", 0
    for token, size in tokens:
        if token.isspace():
            gap, gap_length = (token, size) if current else ("", 0)
            continue
        if current and used + gap_length + size <= budget:
            current += [gap, token]
            used += gap_length + size
            gap, gap_length = "", 0
            continue
        if current:
            pieces.append("".join(current))
        gap, gap_length = "", 0
        if size <= budget:
            current, used = [token], size
            continue
        while (cut := _longest_prefix(token, budget, length)) < len(token):
            pieces.append(token[:cut])  # one word longer than a piece: cut it
            token = token[cut:]
        current, used = [token], length(token)
    if current:
        pieces.append("".join(current))
    return pieces


def _longest_prefix(word: str, budget: int, length: Callable[[str], int]) -> int:
    """The longest prefix of ``word`` within ``budget``: the whole word when it fits, else at
    least one character (a cut must move on).

    A galloping search finds it with a number of ``length`` calls logarithmic in the prefix,
    and never counts the rest of a long word. It relies on a prefix never counting more than a
    longer one, which X's counting breaks only in oddities: a decomposed accent just after
    ``a.be``, and a URL-shaped prefix ending in punctuation (counted on its own) in a word that
    must be cut, which at X's 280 takes a URL followed by some 250 punctuation marks. There a
    cut may come earlier than the longest prefix; a part never goes over the budget.
    """
    low, high = 1, 2
    while high < len(word) and length(word[:high]) <= budget:
        low, high = high, high * 2
    if high >= len(word):
        if length(word) <= budget:
            return len(word)
        high = len(word)  # over budget from here on
    while high - low > 1:
        middle = (low + high) // 2
        if length(word[:middle]) <= budget:
            low = middle
        else:
            high = middle
    return low
