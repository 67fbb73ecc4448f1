"""The customer's rating (CSAT) as an inquiry records it, and when an answer counts as one.

The follow-up asks for a rating when the rule file has ``flow.follow_up.rating`` (since the
``csat-rating`` patch); the customer's next answer is read by the rule engine
(``careflow.engine.rating``). Only an answer to a question asked counts, and only the first
answer to each asking: a reopened inquiry asks again, and its new rating replaces the old.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel

from careflow.engine import messenger_feedback
from careflow.engine.durations import parse_duration
from careflow.engine.messenger_feedback import FeedbackAnswer, FeedbackCard
from careflow.engine.model import FollowUpFlow
from careflow.engine.model import Rating as RatingSpec
from careflow.engine.rating import RatingReader, ReadRating, level_on_scale

CSAT_PATCH = "csat-rating"
# On Messenger the follow-up may ask with Meta's customer-feedback template, and its answer (a
# structured rating) is taken as it is. Asked only for a Messenger inquiry whose rule file has
# ``messenger_template``, or for a message carrying such a rating: other histories carry no
# marker for it.
FEEDBACK_PATCH = "feedback-messenger-template"


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


def messenger_card(
    follow_up: FollowUpFlow, channel: str, customer_last_at: datetime | None, now: datetime
) -> FeedbackCard | None:
    """The customer-feedback template the follow-up asks with, or None for plain text: only
    with ``messenger_template``, on Messenger, and while Meta lets the page send it (within 7
    days of the customer's latest message: 24 hours as a response, then with its tag)."""
    spec = follow_up.rating
    chosen = spec.messenger_template if spec is not None else None
    if chosen is None or channel != "messenger" or customer_last_at is None:
        return None
    if messenger_feedback.sending(now - customer_last_at) is None:
        return None
    return FeedbackCard(
        title=chosen.title,
        button=chosen.button,
        privacy_url=chosen.privacy_url,
        subtitle=chosen.subtitle,
        question=chosen.question,
        score_option=chosen.score_option,
        comment=chosen.comment or None,
        expires_in_days=messenger_feedback.expires_in_days(parse_duration(follow_up.wait)),
    )


def given(spec: RatingSpec, answer: FeedbackAnswer) -> ReadRating:
    """A template's 1-5 answer on the rule file's scale (5, as ``rules check`` requires)."""
    score = level_on_scale(answer.score, spec.scale)
    return ReadRating(score, answer.comment, "template")
