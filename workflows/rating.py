"""The customer's rating (CSAT) as an inquiry records it, and when an answer counts as one.

The follow-up asks for a rating when the rule file has ``flow.follow_up.rating`` (since the
``csat-rating`` patch); the customer's next answer is read by the rule engine
(``careflow.engine.rating``). Only an answer to a question asked counts, and only the first
answer to each asking: a reopened inquiry asks again, and its new rating replaces the old.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from careflow.engine.model import Rating as RatingSpec
from careflow.engine.rating import RatingReader, ReadRating

CSAT_PATCH = "csat-rating"


class Rating(BaseModel):
    """A score on the rule file's scale, what the customer wrote beside it, and when."""

    score: int
    scale: int
    comment: str | None = None
    at: AwareDatetime
    form: str  # how it was written: number, fraction, stars, emoji, words


def awaited(spec: RatingSpec | None, asked_at: AwareDatetime | None, rating: Rating | None) -> bool:
    """Whether a customer message now may be the answer to a rating question."""
    if spec is None or asked_at is None:
        return False
    return rating is None or rating.at < asked_at


def read(spec: RatingSpec, text: str) -> ReadRating | None:
    """The rating ``text`` gives on the rule file's scale and words, or None."""
    return RatingReader(spec.scale, list(spec.languages), dict(spec.words)).read(text)
