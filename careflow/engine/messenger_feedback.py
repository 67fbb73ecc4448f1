"""Messenger's customer-feedback template: the Send API body that asks a CSAT question, and the
``messaging_feedback`` answer read back as a score.

Meta's reference (source of the shapes below):
https://developers.facebook.com/docs/messenger-platform/send-messages/templates/customer-feedback-template
— ``attachment.type: template``, ``payload.template_type: customer_feedback`` with ``title``,
``subtitle``, ``button_title``, ``feedback_screens: [{questions: [{id, type: csat, title?,
score_label, score_option, follow_up?: {type: free_form, placeholder}}]}]``,
``business_privacy: {url}`` (required) and ``expires_in_days``. A CSAT question's answer is
always ``"1"`` to ``"5"`` (``one_to_five``, ``five_stars`` or ``five_emojis``), so the rule
file's scale must be 5 for it. The answer comes back as a ``messaging_feedback`` webhook event:
``feedback_screens: [{screen_id, questions: {<id>: {type: csat, payload: "4", follow_up?:
{type: free_form, payload: <text>}}}}]``. Meta allows the template for "post customer service
conversation feedback", within the standard messaging window (24 hours after the customer's
latest message) and, with the ``CUSTOMER_FEEDBACK`` message tag, for 7 days after it; careflow
asks in plain text otherwise. Meta's limits: title 65 characters, subtitle 80, button 20, the
question 5 to 85, the comment box's placeholder 65, none of them with a URL; one screen with one
question; ``expires_in_days`` 1 to 7 (default 1); the customer's comment at most 400 characters.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

CSAT_SCALE = 5  # a CSAT question's answers: "1" to "5"
QUESTION_ID = "careflow_csat"  # the question's id (letters, digits, _), which keys the answer
STANDARD_WINDOW = timedelta(hours=24)  # Meta's standard messaging window
TAGGED_WINDOW = timedelta(days=7)  # with the CUSTOMER_FEEDBACK tag, only for this template
MAX_EXPIRES_DAYS = 7  # the longest a template may stay open (expires_in_days)
# Meta's character limits of the template's texts (none may hold a URL).
TITLE_LIMIT, SUBTITLE_LIMIT, BUTTON_LIMIT, PLACEHOLDER_LIMIT = 65, 80, 20, 65
QUESTION_LENGTH = (5, 85)
ScoreOption = Literal["one_to_five", "five_stars", "five_emojis"]


def sending(since_customer: timedelta) -> dict[str, str] | None:
    """How the template may go this long after the customer's latest message: a ``RESPONSE``
    within 24 hours, then with the ``CUSTOMER_FEEDBACK`` tag for 7 days; None after that."""
    if since_customer <= STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if since_customer <= TAGGED_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "CUSTOMER_FEEDBACK"}
    return None


class FeedbackCard(BaseModel):
    """What the follow-up's template says, from the rule file (``messenger_template``)."""

    model_config = ConfigDict(frozen=True)

    title: str
    subtitle: str
    button: str
    privacy_url: str
    question: str | None = None  # None: Meta's own question, translated to the customer's locale
    score_option: ScoreOption = "five_stars"
    comment: str | None = None  # the free-form box's placeholder; None: no box
    expires_in_days: int = 1


def expires_in_days(wait: timedelta) -> int:
    """How long the template stays open: as long as the follow-up waits for an answer (whole
    days, 1 to Meta's 7), so a late answer does not reach an inquiry already closed."""
    return max(1, min(MAX_EXPIRES_DAYS, math.ceil(wait / timedelta(days=1))))


def template_message(card: FeedbackCard) -> dict[str, Any]:
    """The Send API ``message`` that shows the template (one screen, one CSAT question)."""
    question: dict[str, Any] = {
        "id": QUESTION_ID,
        "type": "csat",
        "score_label": "neg_pos",
        "score_option": card.score_option,
    }
    if card.question:
        question["title"] = card.question
    if card.comment:
        question["follow_up"] = {"type": "free_form", "placeholder": card.comment}
    payload: dict[str, Any] = {
        "template_type": "customer_feedback",
        "title": card.title,
        "subtitle": card.subtitle,
        "button_title": card.button,
        "feedback_screens": [{"questions": [question]}],
        "business_privacy": {"url": card.privacy_url},
        "expires_in_days": card.expires_in_days,
    }
    return {"attachment": {"type": "template", "payload": payload}}


class FeedbackAnswer(BaseModel):
    """A customer's answer to the template: a CSAT score from 1 to 5 and their comment."""

    model_config = ConfigDict(frozen=True)

    score: int
    comment: str | None = None


def read_answer(feedback: Any) -> FeedbackAnswer | None:
    """The CSAT answer a ``messaging_feedback`` object holds (its first csat question with a
    score from "1" to "5"), or None when it holds none. Raises ``ValueError`` naming what is
    wrong with a shape that is not Meta's."""
    if not isinstance(feedback, dict) or not isinstance(feedback.get("feedback_screens"), list):
        raise ValueError("feedback_screens: expected an array")
    for number, screen in enumerate(feedback["feedback_screens"]):
        questions = screen.get("questions") if isinstance(screen, dict) else None
        if not isinstance(questions, dict):
            raise ValueError(f"feedback_screens[{number}].questions: expected an object")
        for answer in questions.values():
            if not isinstance(answer, dict) or str(answer.get("type", "")).strip() != "csat":
                continue
            score = str(answer.get("payload", "")).strip()
            if not score.isdigit() or not 1 <= int(score) <= CSAT_SCALE:
                raise ValueError(f"feedback_screens[{number}]: a csat payload of {score!r}")
            follow_up = answer.get("follow_up")
            said = follow_up.get("payload") if isinstance(follow_up, dict) else None
            comment = said.strip() if isinstance(said, str) and said.strip() else None
            return FeedbackAnswer(score=int(score), comment=comment)
    return None


def answer_text(answer: FeedbackAnswer) -> str:
    """How the answer reads in the conversation: ``4/5``, then the comment."""
    said = f"{answer.score}/{CSAT_SCALE}"
    return f"{said} {answer.comment}" if answer.comment else said
