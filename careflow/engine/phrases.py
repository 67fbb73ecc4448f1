"""Emerging phrases: words and short phrases rising in recent inquiries that no topic covers yet.

``careflow insights`` feeds this the start of each recent post (the queue's memo) and of those
in the period before; what comes back tells an ops engineer which topic to add. It is pure and
takes time linear in the texts: each text is split once, and each position starts at most
``MAX_WORDS`` phrases.

Personal data never becomes a phrase: a word holding a digit, ``@``, ``#``, ``/`` or ``:``
(handles, emails, order and phone numbers, links) is dropped and ends the phrase it was in, and a
phrase in which careflow's detector (``careflow.engine.sensitive``) finds anything is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from careflow.engine.sensitive import find_sensitive

MAX_WORDS = 3
MIN_LETTERS = 3  # a single word shorter than this says nothing ("ok", "hi")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_PRIVATE_MARK = re.compile(r"[\d@#/:]")
_ENDS_PHRASE = re.compile(r"[.,!?;()\[\]\"“”]")
# Words that carry no subject on their own; a phrase neither starts nor ends with one.
_STOPWORDS = """
a about after again all also am an and any are as at be been before being but by can can't could
did didn't do does doesn't don't for from get got had has hasn't have haven't he her here him his
how i i'm i've if in into is isn't it it's its just me my no not now of on one only or our out
please so some still than that the their them then there they this to too up us very was wasn't
we what when where which who why will with won't would you your you're hi hello hey thanks thank
guys
"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True)
class Document:
    """One inquiry's text (or its start) and the id an example points at."""

    id: str
    text: str


@dataclass
class Phrase:
    """A phrase rising in the recent period: in how many inquiries, against the baseline."""

    phrase: str
    count: int
    baseline: int
    ratio: float  # its share of recent inquiries over its share of baseline ones (smoothed)
    examples: list[str] = field(default_factory=list)


def words_runs(text: str) -> list[list[str]]:
    """The text as runs of plain words: punctuation and anything that may be personal data end
    a run; the dropped token itself never appears."""
    runs: list[list[str]] = [[]]
    for token in text.lower().split():
        if _PRIVATE_MARK.search(token) or token.startswith(("http", "www.")):
            runs.append([])
            continue
        word = _WORD.search(token)
        if word is None:
            runs.append([])
            continue
        if word.start() > 0 and _ENDS_PHRASE.search(token[: word.start()]):
            runs.append([])
        runs[-1].append(word.group(0))
        if _ENDS_PHRASE.search(token[word.end() :]) or word.end() - word.start() < len(
            token.strip(".,!?;()[]\"“”'’")
        ):
            runs.append([])
    return [run for run in runs if run]


def phrases_of(text: str) -> set[str]:
    """Every phrase of 1 to ``MAX_WORDS`` words in ``text`` that may stand as a subject: it does
    not start or end with a stopword, and a single word has at least ``MIN_LETTERS`` letters."""
    found: set[str] = set()
    for run in words_runs(text):
        for start, first in enumerate(run):
            if first in STOPWORDS:
                continue
            for end in range(start + 1, min(start + MAX_WORDS, len(run)) + 1):
                last = run[end - 1]
                if last in STOPWORDS:
                    continue
                if end - start == 1 and len(first) < MIN_LETTERS:
                    continue
                found.add(" ".join(run[start:end]))
    return found


def _document_counts(
    documents: Iterable[Document],
) -> tuple[Counter[str], dict[str, list[str]], int]:
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    total = 0
    for document in documents:
        total += 1
        for phrase in phrases_of(document.text):
            counts[phrase] += 1
            seen = examples.setdefault(phrase, [])
            if len(seen) < 3:
                seen.append(document.id)
    return counts, examples, total


def emerging_phrases(
    recent: Iterable[Document],
    baseline: Iterable[Document],
    covered: Callable[[str], bool] = lambda phrase: False,
    *,
    min_count: int = 3,
    min_ratio: float = 2.0,
    limit: int = 20,
) -> list[Phrase]:
    """Phrases in at least ``min_count`` recent inquiries whose share of them is at least
    ``min_ratio`` times their share of the baseline's, most rising first.

    ``covered`` says whether a topic already matches a phrase (those are left out). A phrase
    inside a longer one found in as many inquiries is left out too: "site" adds nothing to
    "site keeps crashing" when every inquiry that says one says the other."""
    counts, examples, total = _document_counts(recent)
    before, _, base_total = _document_counts(baseline)
    rising: list[Phrase] = []
    for phrase, count in counts.items():
        if count < min_count:
            continue
        # Smoothed by one: a phrase never seen before counts as seen once in a baseline at
        # least as large as the recent period (so an empty baseline still lets new words rise).
        ratio = (count / total) / ((before[phrase] + 1) / max(base_total, total))
        if ratio < min_ratio or find_sensitive(phrase) or covered(phrase):
            continue
        rising.append(Phrase(phrase, count, before[phrase], round(ratio, 2), examples[phrase]))
    longer_first = sorted(rising, key=lambda p: (-len(p.phrase.split()), p.phrase))
    kept: list[Phrase] = []
    for candidate in longer_first:
        padded = f" {candidate.phrase} "
        if any(
            k.count == candidate.count
            and padded in f" {k.phrase} "
            and k.phrase != candidate.phrase
            for k in kept
        ):
            continue
        kept.append(candidate)
    kept.sort(key=lambda p: (-p.ratio, -p.count, p.phrase))
    return kept[:limit]
