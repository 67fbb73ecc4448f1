"""A Messenger customer's answer to the customer-feedback template (``messaging_feedback``) as
the Meta door reads it: their rating for the conversation's open inquiry, never a new inquiry.

source: https://developers.facebook.com/docs/messenger-platform/send-messages/templates/customer-feedback-template
("Receiving data on submission": the delivery below is Meta's example, its placeholders filled).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from careflow.channels import meta
from careflow.channels.common import Feedback
from careflow.devtools.fake_webhooks import Customer, fake_delivery, meta_batch, meta_feedback_event
from careflow.engine.messenger_feedback import FeedbackAnswer
from careflow.engine.ruleset import load_ruleset
from careflow.http.webhooks import explain_body
from careflow.settings import BrandAccounts
from careflow.temporal.intake import feedback_message
from tests.conftest import DEFAULT_PACK

PAGE = "2000"
# Meta's example ("<timestamp>", "<PSID>" and "<page_id>" filled in; the event has no timestamp
# of its own: the entry's time is when the customer submitted).
META_EXAMPLE = {
    "object": "page",
    "entry": [
        {
            "time": 1764547200000,
            "messaging": [
                {
                    "sender": {"id": "6789012345"},
                    "recipient": {"id": PAGE},
                    "messaging_feedback": {
                        "feedback_screens": [
                            {
                                "screen_id": 0,
                                "questions": {
                                    "hauydmns8": {
                                        "type": "csat",
                                        "payload": "5",
                                        "follow_up": {
                                            "type": "free_form",
                                            "payload": "I am very satisfied!",
                                        },
                                    }
                                },
                            }
                        ]
                    },
                }
            ],
        }
    ],
}


def test_metas_example_is_the_customers_rating_for_their_conversation() -> None:
    found = meta.webhook(META_EXAMPLE, BrandAccounts(page_id=PAGE))
    assert found.inquiries == [] and found.problems == [] and found.ignored == []
    assert found.received == 1
    [rating] = found.feedback
    assert rating == Feedback(
        id="feedback-6789012345-1764547200000",
        channel="messenger",
        conversation_id="6789012345",  # a Messenger conversation is keyed by its customer
        author={"id": "6789012345", "handle": "6789012345", "name": None},
        at=datetime(2025, 12, 1, tzinfo=UTC),
        answer=FeedbackAnswer(score=5, comment="I am very satisfied!"),
    )
    message = feedback_message(rating)
    assert (message.text, message.private, message.rating) == (
        "5/5 I am very satisfied!",
        True,
        rating.answer,
    )


def test_a_feedback_event_careflow_cannot_read_is_a_problem_beside_the_others() -> None:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    good = meta_feedback_event(Customer("111", "111"), 2, None, at)
    bad = meta_feedback_event(Customer("222", "222"), 4, None, at)
    bad["messaging_feedback"]["feedback_screens"][0]["questions"]["careflow_csat"]["payload"] = "9"
    found = meta.webhook(meta_batch([good, bad], at).body, BrandAccounts())
    assert [(f.conversation_id, f.answer.score) for f in found.feedback] == [("111", 2)]
    [problem] = found.problems
    assert problem.where == "entry[0].messaging[1]"
    assert "a csat payload of '9'" in problem.message


def test_the_fake_platform_delivers_a_customers_feedback_as_meta_does() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    body = {
        "shape": "feedback",
        "channel": "messenger",
        "author": {"id": "333", "handle": "333"},
        "score": 1,
        "comment": "still broken",
    }
    event, post = fake_delivery(body, "1", now)
    assert post is None and event.path == "/webhooks/meta"
    [entry] = event.body["entry"]
    [item] = entry["messaging"]
    assert item["messaging_feedback"]["feedback_screens"][0]["questions"] == {
        "careflow_csat": {
            "type": "csat",
            "payload": "1",
            "follow_up": {"type": "free_form", "payload": "still broken"},
        }
    }
    [rating] = meta.webhook(event.body, BrandAccounts()).feedback
    assert rating.answer == FeedbackAnswer(score=1, comment="still broken")


def test_intake_explain_shows_a_feedback_answer_as_a_rating() -> None:
    raw = json.dumps(META_EXAMPLE).encode()
    ruleset = load_ruleset(DEFAULT_PACK)
    events, _ = explain_body("meta", raw, BrandAccounts(page_id=PAGE), ruleset, datetime.now(UTC))
    [event] = events
    assert (event["kind"], event["score"], event["text"]) == (
        "rating",
        5,
        "5/5 I am very satisfied!",
    )
    assert event["conversation_id"] == "6789012345"
