"""Messenger's customer-feedback template as careflow sends it and reads its answer back, held to
Meta's documented shapes, and the rule file's ``messenger_template`` as ``rules check`` sees it.

source: https://developers.facebook.com/docs/messenger-platform/send-messages/templates/customer-feedback-template
(the Send API example and the ``messaging_feedback`` event below are that page's, ids and texts
as Meta wrote them; its "24 hour restriction" section gives the windows).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from careflow.engine.checker import check_text
from careflow.engine.messenger_feedback import (
    FeedbackAnswer,
    FeedbackCard,
    answer_text,
    expires_in_days,
    read_answer,
    sending,
    template_message,
)
from tests.conftest import MINIMAL

# Meta's Send API example, "message" part (source above).
META_SEND_EXAMPLE = {
    "attachment": {
        "type": "template",
        "payload": {
            "template_type": "customer_feedback",
            "title": "Rate your experience with Original Coast Clothing.",
            "subtitle": "Let Original Coast Clothing know how they are doing by answering two "
            "questions",
            "button_title": "Rate Experience",
            "feedback_screens": [
                {
                    "questions": [
                        {
                            "id": "hauydmns8",
                            "type": "csat",
                            "title": "How would you rate your experience with Original Coast "
                            "Clothing?",
                            "score_label": "neg_pos",
                            "score_option": "five_stars",
                            "follow_up": {
                                "type": "free_form",
                                "placeholder": "Give additional feedback",
                            },
                        }
                    ]
                }
            ],
            "business_privacy": {"url": "https://www.example.com"},
            "expires_in_days": 3,
        },
    }
}
# Meta's messaging_feedback example, the event's "messaging_feedback" part (source above).
META_FEEDBACK_EXAMPLE = {
    "feedback_screens": [
        {
            "screen_id": 0,
            "questions": {
                "hauydmns8": {
                    "type": "csat",
                    "payload": "5",
                    "follow_up": {"type": "free_form", "payload": "I am very satisfied!"},
                }
            },
        }
    ]
}


def _shape(value: object) -> object:
    """The keys of every object, nested, without the values: what a shape comparison needs."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def test_the_template_careflow_sends_has_the_shape_of_metas_example() -> None:
    card = FeedbackCard(
        title="Rate your experience with Original Coast Clothing.",
        subtitle="Let Original Coast Clothing know how they are doing by answering two questions",
        button="Rate Experience",
        privacy_url="https://www.example.com",
        question="How would you rate your experience with Original Coast Clothing?",
        comment="Give additional feedback",
        expires_in_days=3,
    )
    sent = template_message(card)
    example_question = META_SEND_EXAMPLE["attachment"]["payload"]["feedback_screens"][0]  # type: ignore[index]
    example_question["questions"][0]["id"] = sent["attachment"]["payload"]["feedback_screens"][0][
        "questions"
    ][0]["id"]
    assert sent == META_SEND_EXAMPLE
    assert _shape(sent) == _shape(META_SEND_EXAMPLE)


def test_without_a_question_or_a_comment_box_meta_s_own_question_shows_alone() -> None:
    card = FeedbackCard(title="How did we do?", subtitle="A few seconds", button="Rate us",
                        privacy_url="https://acme.example/privacy")  # fmt: skip
    [question] = template_message(card)["attachment"]["payload"]["feedback_screens"][0]["questions"]
    assert question == {
        "id": "careflow_csat",  # letters, digits and _ only, as Meta requires
        "type": "csat",
        "score_label": "neg_pos",
        "score_option": "five_stars",
    }


def test_metas_feedback_event_is_read_as_a_score_and_a_comment() -> None:
    answer = read_answer(META_FEEDBACK_EXAMPLE)
    assert answer == FeedbackAnswer(score=5, comment="I am very satisfied!")
    assert answer_text(answer) == "5/5 I am very satisfied!"
    bare = {"feedback_screens": [{"screen_id": 0, "questions": {"q": {"type": "csat",
                                                                      "payload": "2"}}}]}  # fmt: skip
    assert read_answer(bare) == FeedbackAnswer(score=2, comment=None)
    nps = {"feedback_screens": [{"screen_id": 0, "questions": {"q": {"type": "nps",
                                                                     "payload": "9"}}}]}  # fmt: skip
    assert read_answer(nps) is None  # not a CSAT answer: careflow asks none other


@pytest.mark.parametrize(
    ("feedback", "message"),
    [
        ({}, "feedback_screens: expected an array"),
        ({"feedback_screens": [{"questions": []}]}, "questions: expected an object"),
        (
            {"feedback_screens": [{"questions": {"q": {"type": "csat", "payload": "6"}}}]},
            "a csat payload of '6'",
        ),
    ],
)
def test_a_feedback_event_not_in_metas_shape_says_what_is_wrong(
    feedback: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        read_answer(feedback)


def test_the_template_may_go_for_24_hours_then_7_days_with_its_tag() -> None:
    assert sending(timedelta(hours=23)) == {"messaging_type": "RESPONSE"}
    assert sending(timedelta(days=3)) == {
        "messaging_type": "MESSAGE_TAG",
        "tag": "CUSTOMER_FEEDBACK",
    }
    assert sending(timedelta(days=7, minutes=1)) is None


def test_the_template_stays_open_as_long_as_the_follow_up_waits() -> None:
    assert expires_in_days(timedelta(hours=72)) == 3
    assert expires_in_days(timedelta(hours=1)) == 1
    assert expires_in_days(timedelta(days=30)) == 7  # Meta's longest


def _problems(rating: str) -> list[str]:
    text = MINIMAL.replace(
        'templates:\n  follow_up: "Is everything sorted?"\n',
        'templates:\n  follow_up: "Is everything sorted?"\n'
        f"flow:\n  follow_up:\n    rating:\n{rating}",
    )
    return [str(p) for p in check_text(text, "r.yaml").problems]


def test_rules_check_takes_a_messenger_template_on_a_five_point_scale() -> None:
    assert (
        _problems("      messenger_template: {privacy_url: 'https://acme.example/privacy'}\n") == []
    )


def test_rules_check_refuses_a_messenger_template_on_another_scale() -> None:
    problems = _problems(
        "      scale: 10\n      messenger_template: {privacy_url: 'https://acme.example/p'}\n"
    )
    assert problems == [
        "r.yaml:12:7: Messenger's customer-feedback template asks a 1 to 5 CSAT question; the "
        "rating's scale is 10: set scale to 5 or drop messenger_template"
    ]


def test_rules_check_refuses_a_link_in_the_template_and_a_title_over_metas_limit() -> None:
    problems = _problems(
        "      messenger_template:\n"
        "        privacy_url: 'https://acme.example/p'\n"
        "        subtitle: 'See www.acme.example'\n"
    )
    assert problems == [
        "r.yaml:13:19: Meta refuses a link in the template's subtitle: the privacy link is "
        "privacy_url's, and other links go in a reply"
    ]
    [long_title] = _problems(
        f"      messenger_template: {{privacy_url: 'https://a.example/p', title: '{'x' * 66}'}}\n"
    )
    assert long_title.startswith("r.yaml:11:") and "65" in long_title, long_title
    [no_url] = _problems("      messenger_template: {title: Rate us}\n")
    assert no_url.startswith("r.yaml:11:") and "privacy_url" in no_url, no_url
