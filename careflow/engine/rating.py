"""Reading a customer's answer to the follow-up's rating question as a score.

Customers answer a rating question the way they write anything else on social media: ``5``,
``4/5 quick and friendly``, ``★★★★☆``, ``👍``, ``great!``, ``pas mal``. ``RatingReader.read``
takes the first form it finds, in this order, and the rest of the message as the comment:

1. a fraction: ``4/5``, ``8 / 10``, ``3 out of 5`` (out of the scale, 5 or 10; mapped onto the
   scale);
2. a number that opens the message: ``5``, ``4 - quick`` (1 to the scale; ``2nd``, ``10:30`` and
   numbers above the scale are not ratings);
3. stars: ``★★★★``, ``⭐⭐⭐`` (their count, at most the scale);
4. an emoji with a clear mood (😡 1 … 😍 5);
5. a word or phrase of the rule file's languages, or of its own ``words`` (``great`` 5,
   ``terrible`` 1, ``not bad`` 4); a negated word (``not happy``) reads as its opposite, softened.

Anything else — ``ok``, ``what do you mean?``, ``I ordered 3 items`` — is not a rating: the reply
is handled as any follow-up reply. Every step is one pass over the text (bounded regular
expressions, a token walk with dictionary look-ups), so the work is linear in its length.
Built-in words are on a 1-5 scale and mapped onto the rule file's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# How it was written; "template": a platform's own rating form (Messenger's feedback template).
Form = Literal["fraction", "number", "stars", "emoji", "words", "template"]

# Level 1 (very unhappy) to 5 (delighted), per language: lowercase, words separated by spaces.
_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "terrible": 1, "awful": 1, "horrible": 1, "worst": 1, "useless": 1, "appalling": 1,
        "very bad": 1, "bad": 2, "poor": 2, "disappointing": 2, "disappointed": 2,
        "unhappy": 2, "mediocre": 2, "meh": 3, "average": 3, "so so": 3, "so-so": 3,
        "good": 4, "nice": 4, "happy": 4, "satisfied": 4, "pretty good": 4, "helpful": 4,
        "great": 5, "excellent": 5, "amazing": 5, "awesome": 5, "perfect": 5, "fantastic": 5,
        "brilliant": 5, "outstanding": 5, "superb": 5, "very good": 5, "very happy": 5,
        "very satisfied": 5, "not bad": 4, "not great": 2, "not good": 2,
    },
    "fr": {
        "nul": 1, "horrible": 1, "catastrophique": 1, "très mauvais": 1, "mauvais": 2,
        "décevant": 2, "déçu": 2, "déçue": 2, "moyen": 3, "bof": 3, "bien": 4, "bon": 4,
        "satisfait": 4, "satisfaite": 4, "pas mal": 4, "pas terrible": 2, "très bien": 5,
        "super": 5, "excellent": 5, "parfait": 5, "génial": 5, "très satisfait": 5,
    },
    "es": {
        "terrible": 1, "pésimo": 1, "horrible": 1, "malo": 2, "mal": 2, "regular": 3,
        "bien": 4, "bueno": 4, "satisfecho": 4, "muy bien": 5, "muy bueno": 5,
        "excelente": 5, "perfecto": 5, "genial": 5, "muy satisfecho": 5,
    },
    "de": {
        "schrecklich": 1, "furchtbar": 1, "sehr schlecht": 1, "schlecht": 2,
        "enttäuschend": 2, "geht so": 3, "mittelmäßig": 3, "gut": 4, "zufrieden": 4,
        "nicht schlecht": 4, "sehr gut": 5, "super": 5, "ausgezeichnet": 5, "perfekt": 5,
        "toll": 5, "sehr zufrieden": 5,
    },
    "pt": {
        "péssimo": 1, "horrível": 1, "terrível": 1, "ruim": 2, "mau": 2, "regular": 3,
        "bom": 4, "satisfeito": 4, "muito bom": 5, "ótimo": 5, "excelente": 5,
        "perfeito": 5,
    },
    "it": {
        "pessimo": 1, "orribile": 1, "terribile": 1, "scarso": 2, "deludente": 2,
        "discreto": 3, "buono": 4, "bene": 4, "soddisfatto": 4, "ottimo": 5,
        "eccellente": 5, "perfetto": 5, "molto bene": 5,
    },
    "nl": {
        "vreselijk": 1, "verschrikkelijk": 1, "slecht": 2, "matig": 3, "redelijk": 3,
        "goed": 4, "tevreden": 4, "heel goed": 5, "uitstekend": 5, "perfect": 5,
        "geweldig": 5, "super": 5,
    },
}  # fmt: skip
LANGUAGES = tuple(_WORDS)
# A word after one of these reads as its opposite, softened: "not happy" 2, "not terrible" 4.
_NEGATORS = frozenset(
    {"not", "never", "isn't", "wasn't", "isnt", "wasnt", "pas", "nicht", "não", "nao", "niet"}
)
_EMOJI: dict[str, int] = {
    **dict.fromkeys("😡🤬😠😤💩😭", 1),
    **dict.fromkeys("😞😟☹🙁😕👎😢😒", 2),
    **dict.fromkeys("😐😑🤷😶", 3),
    **dict.fromkeys("🙂👍😊☺", 4),
    **dict.fromkeys("😀😃😄😁😍🤩🥰❤💯🙌👏🎉😻💖💕", 5),
}
_STARS = frozenset("★⭐🌟")
_EMPTY_STARS = "☆"
_FRACTION = re.compile(r"(?<!\d)(\d{1,2})\s{0,3}(?:/|out\s{1,3}of)\s{0,3}(\d{1,2})(?!\d)", re.I)
_LEADING = re.compile(r"\s{0,20}(\d{1,2})(?![\d%])(?![.,:/]\d)\b")
# Words that may follow a leading score ("5 stars", "4 thanks!"); any other word makes the
# number part of a sentence ("3 items arrived"), not a score.
_AFTER_NUMBER = frozenset(
    {"star", "stars", "points", "thanks", "thank", "thx", "ty", "merci", "gracias", "danke",
     "obrigado", "obrigada", "grazie", "bedankt", "étoiles", "estrellas", "sterne", "stelle"}
)  # fmt: skip
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_EDGES = " \t\r\n-–—:;,.()"


@dataclass(frozen=True)
class ReadRating:
    """A score on the scale, the rest of the message as the comment, and how it was written."""

    score: int
    comment: str | None
    form: Form


def level_on_scale(level: int, scale: int) -> int:
    """A 1-5 level mapped onto a 1-``scale`` scale (half up): 5 on 10 is 10, 4 on 10 is 8."""
    return int(1 + (level - 1) * (scale - 1) / 4 + 0.5)


def on_five(score: float, scale: int) -> float:
    """A score on a 1-``scale`` scale mapped onto 1-5, for reports that mix scales."""
    return 1 + (score - 1) * 4 / (scale - 1)


def tokens(text: str) -> list[str]:
    """Lowercase words (apostrophes inside a word kept: ``isn't``)."""
    return [token.replace("’", "'") for token in _TOKEN.findall(text.casefold())]


def _comment(rest: str) -> str | None:
    """What is left once the score is taken out; nothing but punctuation is no comment."""
    rest = rest.strip(_EDGES)
    return rest if any(c.isalnum() for c in rest) else None


class RatingReader:
    """Reads answers on one scale, with the words of the given languages and the rule file's."""

    def __init__(self, scale: int, languages: list[str], words: dict[str, int]) -> None:
        self.scale = scale
        phrases: dict[tuple[str, ...], int] = {}
        for language in languages:
            for phrase, level in _WORDS.get(language, {}).items():
                phrases[tuple(tokens(phrase))] = level_on_scale(level, scale)
        for phrase, score in words.items():
            if tokens(phrase):
                phrases[tuple(tokens(phrase))] = score
        self._phrases = phrases
        self._longest = max((len(p) for p in phrases), default=0)
        self._may_follow_number = _AFTER_NUMBER | {p[0] for p in phrases}

    def read(self, text: str) -> ReadRating | None:
        """The rating ``text`` gives, or None when it gives none."""
        return (
            self._fraction(text)
            or self._leading(text)
            or self._stars(text)
            or self._emoji(text)
            or self._words(text)
        )

    def _fraction(self, text: str) -> ReadRating | None:
        for match in _FRACTION.finditer(text):
            given, out_of = int(match[1]), int(match[2])
            if out_of in (self.scale, 5, 10) and given <= out_of:
                score = given if out_of == self.scale else round(given / out_of * self.scale)
                # "4/5 quick": the rest is the comment; "I'd say 3/5, slow": the whole text.
                before = _comment(text[: match.start()])
                comment = text.strip() if before else _comment(text[match.end() :])
                return ReadRating(max(1, score), comment, "fraction")
        return None

    def _leading(self, text: str) -> ReadRating | None:
        match = _LEADING.match(text)
        if match is None or not 1 <= int(match[1]) <= self.scale:
            return None
        rest = text[match.end() :]
        following = rest.lstrip()
        if following[:1].isalpha():
            word = tokens(following[:40])[:1]
            if not word or word[0] not in self._may_follow_number:
                return None
        return ReadRating(int(match[1]), _comment(rest), "number")

    def _stars(self, text: str) -> ReadRating | None:
        count = sum(1 for c in text if c in _STARS)
        if not count:
            return None
        rest = "".join(c for c in text if c not in _STARS and c != _EMPTY_STARS and c != "\ufe0f")
        return ReadRating(min(count, self.scale), _comment(rest), "stars")

    def _emoji(self, text: str) -> ReadRating | None:
        for index, char in enumerate(text):
            level = _EMOJI.get(char)
            if level is not None:
                alone = _comment(text[:index] + text[index + 1 :]) is None
                score = level_on_scale(level, self.scale)
                return ReadRating(score, None if alone else text.strip(), "emoji")
        return None

    def _words(self, text: str) -> ReadRating | None:
        words = tokens(text)
        for start in range(len(words)):
            for length in range(min(self._longest, len(words) - start), 0, -1):
                score = self._phrases.get(tuple(words[start : start + length]))
                if score is None:
                    continue
                negated = start > 0 and words[start - 1] in _NEGATORS
                if negated:
                    score = self._negated(score)
                alone = len(words) == length + (1 if negated else 0)
                return ReadRating(score, None if alone else text.strip(), "words")
        return None

    def _negated(self, score: int) -> int:
        """The opposite score, kept off the ends: "not great" is poor, not the worst."""
        low, high = level_on_scale(2, self.scale), level_on_scale(4, self.scale)
        return min(max(self.scale + 1 - score, low), high)
