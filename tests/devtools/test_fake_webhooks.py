"""The fake platform as a customer: posts become the platforms' own signed webhooks, which the
real intake verifies and normalizes back to the same inquiry."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from careflow.channels import meta, x
from careflow.devtools.fake_platform import fake_platform_app
from careflow.devtools.fake_webhooks import (
    Customer,
    Secrets,
    event_for,
    fake_delivery,
    meta_batch,
    meta_message,
    meta_message_event,
    signed,
)
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import Settings, WebhookSecrets
from tests.conftest import DEFAULT_PACK

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "inquiries").glob("*.json"))
SECRETS = Secrets(x_consumer_secret="x-secret-for-tests", meta_app_secret="meta-secret-for-tests")
SETTINGS = Settings(
    webhooks=WebhookSecrets(
        x_consumer_secret=SECRETS.x_consumer_secret,
        meta_app_secret=SECRETS.meta_app_secret,
    )
)


def normalized(inquiry: Inquiry) -> Inquiry:
    event = event_for(inquiry)
    found = (
        x.account_activity(event.body, SETTINGS.brand)
        if event.platform == "x"
        else meta.webhook(event.body, SETTINGS.brand)
    )
    assert not found.ignored and len(found.inquiries) == 1
    return found.inquiries[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_post_survives_the_trip_through_its_platforms_webhook(path: Path) -> None:
    inquiry = Inquiry.model_validate_json(path.read_text())
    back = normalized(inquiry)
    assert (back.id, back.channel, back.kind, back.text) == (
        inquiry.id,
        inquiry.channel,
        inquiry.kind,
        inquiry.text,
    )
    assert back.author.id == inquiry.author.id
    if inquiry.channel in ("x", "instagram"):
        assert back.author.handle == inquiry.author.handle
    # X keys a DM conversation by the customer; public threads keep their own id.
    expected = inquiry.author.id if inquiry.kind == "private" else inquiry.conversation_id
    assert back.conversation_id == expected
    assert abs((back.created_at - inquiry.created_at).total_seconds()) < 1


def test_the_fakes_messenger_message_comes_back_keyed_by_the_sender() -> None:
    """No example is a Messenger post, so the fake's Messenger payload is checked here."""
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    customer = Customer(id="61001", handle="Lena Fischer")
    found = meta.webhook(meta_message("m_1", customer, "hello", at).body, SETTINGS.brand)
    (back,) = found.inquiries
    assert (back.channel, back.kind, back.conversation_id) == ("messenger", "private", "61001")


def test_the_fakes_meta_batches_carry_the_real_shapes() -> None:
    """Several events per delivery, standby, unsent, unsupported and media, read back."""
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    lena = Customer(id="61001", handle="61001")
    events = [
        meta_message_event("m_1", lena, "hello", at),
        meta_message_event("m_2", lena, None, at, unsent=True),
        meta_message_event("m_3", lena, None, at, unsupported=True),
        meta_message_event("m_4", lena, None, at, attachments=[("video", "https://cdn/v.mp4")]),
    ]
    for standby in (False, True):
        batch = meta_batch(events, at, standby=standby)
        found = meta.webhook(batch.body, SETTINGS.brand)
        assert [post.text for post in found.inquiries] == ["hello", "(video)"]
        assert [item.id for item in found.ignored] == ["m_3"]
        assert [(c.kind, c.id) for c in found.changes] == [("withdrawn", "m_2")]
    instagram = meta.webhook(meta_batch(events[:1], at, instagram=True).body, SETTINGS.brand)
    assert instagram.inquiries[0].channel == "instagram"


@pytest.fixture(scope="module")
def intake() -> Iterator[str]:
    """The real intake on a free port; spam is dropped before Temporal is needed."""

    async def never_connect() -> Client:
        raise AssertionError("the intake reached for Temporal")

    app = create_app(SETTINGS, never_connect, load_ruleset(DEFAULT_PACK))
    server = ThreadedServer(app, free_port(), "test-intake", log_level="warning").start()
    try:
        yield server.url
    finally:
        server.stop()


def post_as_customer(app: Any, body: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
            return await http.post("/_fake/webhooks", json=body)

    return asyncio.run(run())


SPAM = {
    "channel": "x",
    "author": {"id": "40001", "handle": "win_big_4u", "followers": 12},
    "text": "GIVEAWAY!! follow back and retweet to win a free phone",
}


def test_a_customers_post_reaches_the_intake_signed_and_is_filtered(intake: str) -> None:
    answer = post_as_customer(fake_platform_app(intake_url=intake, secrets=SECRETS), SPAM)
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert said["delivered_to"] == "/webhooks/x" and said["intake_status"] == 200
    assert said["intake"]["received"] == 1 and said["intake"]["started"] == []
    assert [dropped["id"] for dropped in said["intake"]["dropped"]] == [said["id"]]


def test_a_fake_with_the_wrong_secret_is_refused_by_the_intake(intake: str) -> None:
    wrong = Secrets(x_consumer_secret="not-the-secret", meta_app_secret=None)
    said = post_as_customer(fake_platform_app(intake_url=intake, secrets=wrong), SPAM).json()
    assert said["intake_status"] == 401
    assert "signature does not match" in said["intake"]["error"]


def test_posting_as_a_customer_needs_an_intake_and_a_valid_post() -> None:
    answer = post_as_customer(fake_platform_app(secrets=SECRETS), SPAM)
    assert answer.status_code == 409 and "--intake" in answer.json()["error"]
    app = fake_platform_app(intake_url="http://127.0.0.1:9", secrets=SECRETS)
    answer = post_as_customer(app, {"channel": "x", "text": "no author"})
    assert answer.status_code == 422
    assert any(problem.startswith("author") for problem in answer.json()["problems"])


def test_signing_without_the_platforms_secret_names_the_variable() -> None:
    event = event_for(Inquiry.model_validate_json(EXAMPLES[0].read_text()))
    with pytest.raises(ValueError, match="CAREFLOW_X_CONSUMER_SECRET"):
        signed(event, Secrets(None, "meta"))


def test_the_fake_sends_edits_unsent_standby_media_and_batches_on_request() -> None:
    """``POST /_fake/webhooks`` shapes, read back by the real normalizer."""
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    lena = {"id": "61001", "handle": "lena"}
    asks = [
        {"shape": "edit", "channel": "messenger", "author": lena, "message_id": "m_1", "text": "x"},
        {"shape": "unsent", "channel": "messenger", "author": lena, "message_id": "m_1"},
        {"shape": "standby", "channel": "messenger", "author": lena, "text": "still there?"},
        {
            "channel": "messenger",
            "author": lena,
            "text": "",
            "attachments": [{"type": "image", "url": "https://cdn/p.jpg"}],
        },
    ]
    seen = []
    for ask in [*asks, {"shape": "batch", "events": asks}]:
        event, _ = fake_delivery(ask, "m_9", at)
        found = meta.webhook(event.body, SETTINGS.brand)
        assert found.problems == [] and found.ignored == []
        seen.append(
            [c.kind for c in found.changes]
            + [(p.text, len(p.attachments)) for p in found.inquiries]
        )
    assert seen == [
        ["edit"],
        ["withdrawn"],
        [("still there?", 0)],
        [("(photo)", 1)],
        ["edit", "withdrawn", ("(photo)", 1), ("still there?", 0)],
    ]
    with pytest.raises(ValueError, match="message_id"):
        fake_delivery({"shape": "edit", "channel": "messenger", "author": lena}, "m", at)
    with pytest.raises(ValueError, match="messenger or instagram"):
        fake_delivery({"shape": "unsent", "channel": "x", "author": lena}, "m", at)
