"""A follow-up asking with Messenger's customer-feedback template goes to the fake Graph API as
Meta's Send API takes it, once per key, in the window Meta allows (24 hours as a response, then
7 days with the CUSTOMER_FEEDBACK tag, then refused: the workflow escalates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from activities.outbound import compose
from activities.types import Outbound
from careflow.engine.messenger_feedback import FeedbackCard, template_message
from tests.activities.adapters.support import (
    TOKEN,
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
)

CARD = FeedbackCard(
    title="How did we do?",
    subtitle="Your rating helps us look after you better",
    button="Rate us",
    privacy_url="https://acme.example/privacy",
    comment="Anything else to tell us?",
    expires_in_days=3,
)


def asking(key: str, customer_wrote: timedelta) -> Outbound:
    return outbound(
        key=key,
        kind="follow_up",
        channel="messenger",
        conversation_id="psid-41",
        template="Is everything sorted? From 1 to 5?",
        feedback=CARD,
        customer_last_at=datetime.now(UTC) - customer_wrote,
    )


def test_the_template_is_sent_as_metas_send_api_takes_it_once_per_key(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = asking("inquiry-messenger-psid-41/r1/follow_up/4", timedelta(hours=2))
    assert compose(message) == "How did we do?"
    first = deliver(adapter, message, compose(message))
    again = deliver(adapter, message, compose(message))
    [post] = fake.posts()
    assert post["kind"] == "message" and post["recipient"] == "psid-41"
    assert post["template"] == template_message(CARD)["attachment"]["payload"]
    assert (post["messaging_type"], post["tag"]) == ("RESPONSE", None)
    assert (first.id, first.text, again.duplicate) == (f"m_{post['id']}", "How did we do?", True)


def test_after_24_hours_the_template_goes_with_its_tag_and_after_7_days_not_at_all(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    tagged = asking("k/tagged", timedelta(days=3))
    deliver(adapter, tagged, compose(tagged))
    [post] = fake.posts()
    assert (post["messaging_type"], post["tag"]) == ("MESSAGE_TAG", "CUSTOMER_FEEDBACK")
    late = asking("k/late", timedelta(days=8))
    refused = failure(adapter, late, compose(late))
    assert refused.type == "DeliveryRejected"
    assert "the customer last wrote 8 days ago" in refused.message
    assert len(fake.posts()) == 1


def test_the_fake_refuses_what_meta_refuses(fake: Fake) -> None:
    def send(message: dict[str, object], **more: object) -> httpx.Response:
        body = {"recipient": {"id": "psid-41"}, "message": message, **more}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.post(f"{fake.url}/v21.0/me/messages", json=body, headers=headers)

    no_subtitle = template_message(CARD)
    del no_subtitle["attachment"]["payload"]["subtitle"]
    assert send(no_subtitle).status_code == 400
    assert "subtitle is required" in send(no_subtitle).json()["error"]["message"]
    tagged_text = send({"text": "hi"}, messaging_type="MESSAGE_TAG", tag="CUSTOMER_FEEDBACK")
    assert tagged_text.status_code == 400
    assert fake.posts() == []
