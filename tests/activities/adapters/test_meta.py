"""Posting to Meta: comments, Messenger, Private Replies, the 24-hour window
(activities/adapters/meta.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.activities.adapters.support import (
    TOKEN,
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
    unnumbered,
    words,
)


def test_a_facebook_reply_is_a_comment_on_the_comment(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="facebook", in_reply_to="123_456")
    delivery = deliver(adapter, message, "Sorry about that")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/123_456/comments", "comment")
    assert (post["in_reply_to"], post["text"]) == ("123_456", "Sorry about that")
    assert delivery.id == post["id"]


def test_an_instagram_reply_uses_the_replies_edge(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(channel="instagram", in_reply_to="1789"), "Thanks Jo")
    assert [post["path"] for post in fake.posts()] == ["/v21.0/1789/replies"]


def test_a_private_conversation_reply_is_a_send_api_message(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(
        channel="facebook", private=True, conversation_kind="private", conversation_id="psid-40005"
    )
    delivery = deliver(adapter, message, "Here is your return label")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/me/messages", "message")
    assert (post["recipient"], post["messaging_type"]) == ("psid-40005", "RESPONSE")
    assert post["text"] == "Here is your return label"
    assert delivery.id == f"m_{post['id']}"  # the message_id


def test_a_messenger_reply_goes_to_the_customers_psid(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(
        channel="messenger", conversation_kind="private", conversation_id="psid-7", private=True
    )
    delivery = deliver(adapter, message, "Your parcel left today")
    [post] = fake.posts()
    assert (post["path"], post["kind"], post["recipient"]) == (
        "/v21.0/me/messages",
        "message",
        "psid-7",
    )
    assert (delivery.id, delivery.private, delivery.parts) == (f"m_{post['id']}", None, 1)


def test_a_long_messenger_reply_is_several_messages(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(500)  # about 4400 characters
    message = outbound(channel="messenger", conversation_kind="private", conversation_id="psid-1")
    delivery = deliver(adapter, message, text)
    posts = fake.posts()
    assert len(posts) == delivery.parts == 3
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(len(p["text"]) <= 2000 and p["recipient"] == "psid-1" for p in posts)
    assert " ".join(unnumbered(p["text"]) for p in posts) == text  # cut between words only
    assert delivery.text == text


def test_the_fake_refuses_a_messenger_message_over_2000_characters(fake: Fake) -> None:
    response = httpx.post(
        f"{fake.url}/v21.0/me/messages",
        json={"recipient": {"id": "psid-1"}, "message": {"text": "x" * 2001}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "2000" in response.json()["error"]["message"]


@pytest.mark.parametrize("channel", ["facebook", "instagram"])
def test_a_private_message_on_a_public_comment_is_a_private_reply(
    fake: Fake, tmp_path: Path, channel: str
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel=channel, kind="invitation", private=True, in_reply_to="123_456")
    delivery = deliver(adapter, message, "Could you send us a message with your order number?")
    [post] = fake.posts()
    assert (post["path"], post["kind"], post["recipient"]) == (
        "/v21.0/me/messages",
        "private_reply",
        "123_456",
    )
    assert (delivery.id, delivery.private) == (f"m_{post['id']}", None)


def test_a_second_private_message_on_one_public_comment_is_refused(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    first = outbound(channel="facebook", private=True, in_reply_to="123_456", key="k/1")
    deliver(adapter, first, "Could you send us a message?")
    assert deliver(adapter, first, "Could you send us a message?").duplicate  # a retry: fine
    error = failure(adapter, first.model_copy(update={"key": "k/2"}))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "one private reply" in error.message and "message the Page first" in error.message
    assert len(fake.posts()) == 1  # refused before asking Meta
    # Another comment has its own private reply.
    deliver(adapter, first.model_copy(update={"key": "k/3", "in_reply_to": "123_789"}), "Hi")
    assert [p["recipient"] for p in fake.posts()] == ["123_456", "123_789"]


def test_once_the_customer_messaged_the_page_private_replies_go_to_their_thread(
    fake: Fake, tmp_path: Path
) -> None:
    """After the invitation (the comment's one Private Reply) the customer writes to the Page;
    from then on the inquiry's private messages go to that Messenger thread, by their id."""
    adapter = adapter_of(settings(fake, tmp_path))
    invite = outbound(channel="facebook", private=True, in_reply_to="123_456", key="k/1")
    deliver(adapter, invite, "Could you send us a message?")
    answer = invite.model_copy(
        update={"key": "k/2", "recipient_id": "61001", "customer_in_private": True}
    )
    delivery = deliver(adapter, answer, "Thanks Lena, a new one is on its way.")
    assert [(p["kind"], p["recipient"]) for p in fake.posts()] == [
        ("private_reply", "123_456"),
        ("message", "61001"),
    ]
    assert delivery.private is None  # it went privately, as asked


def test_messenger_follows_metas_24_hour_window(fake: Fake, tmp_path: Path) -> None:
    """Within 24 hours of the customer's latest message anything goes as a RESPONSE; later only
    a person's message, tagged HUMAN_AGENT, for up to 7 days; an automated one is refused."""
    adapter = adapter_of(settings(fake, tmp_path))
    now = datetime.now(UTC)
    dm = outbound(channel="messenger", conversation_kind="private", conversation_id="62001")

    def sent(key: str, hours_ago: float, human: bool, kind: str = "reply") -> dict[str, Any]:
        message = dm.model_copy(
            update={
                "key": key,
                "kind": kind,
                "human": human,
                "customer_last_at": now - timedelta(hours=hours_ago),
            }
        )
        deliver(adapter, message, "hello")
        return fake.posts()[-1]

    fresh = sent("k/1", 2, human=False)
    assert (fresh["messaging_type"], fresh["tag"]) == ("RESPONSE", None)
    late = sent("k/2", 30, human=True)
    assert (late["messaging_type"], late["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    automated = dm.model_copy(
        update={"key": "k/3", "kind": "follow_up", "customer_last_at": now - timedelta(hours=30)}
    )
    error = failure(adapter, automated)
    assert error.type == "DeliveryRejected" and "automated follow_up" in error.message
    too_late = automated.model_copy(
        update={"key": "k/4", "human": True, "customer_last_at": now - timedelta(days=8)}
    )
    assert "messaging window is closed" in failure(adapter, too_late).message
    assert len(fake.posts()) == 2


def test_meta_refusing_a_second_private_reply_is_explained(fake: Fake, tmp_path: Path) -> None:
    message = outbound(channel="facebook", private=True, in_reply_to="123_456")
    deliver(adapter_of(settings(fake, tmp_path / "a")), message, "first")
    # A worker with another record: only Meta knows the comment had its private reply.
    error = failure(adapter_of(settings(fake, tmp_path / "b")), message)
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "message the Page first" in error.message and "code 10900" in error.message
    assert len(fake.posts()) == 1


def test_the_fake_allows_one_private_reply_per_comment_like_meta(fake: Fake) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    send = {"recipient": {"comment_id": "123_456"}, "message": {"text": "hi"}}
    assert httpx.post(f"{fake.url}/v21.0/me/messages", json=send, headers=auth).status_code == 200
    again = httpx.post(f"{fake.url}/v21.0/me/messages", json=send, headers=auth)
    legacy = httpx.post(
        f"{fake.url}/v21.0/123_456/private_replies", json={"message": "hi"}, headers=auth
    )
    for refused in (again, legacy):
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == 10900
        assert "already replied" in refused.json()["error"]["message"]
    assert [p["kind"] for p in fake.posts()] == ["private_reply"]


def test_a_private_reply_over_one_message_is_refused(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="instagram", private=True, in_reply_to="1789")
    error = failure(adapter, message, words(400))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "one message of at most 2000" in error.message
    assert fake.posts() == []


@pytest.mark.parametrize(
    ("mention", "media", "under"),
    [
        ("mention:17900000000000077:17900000000000099", "17900000000000077", "17900000000000099"),
        ("mention:17900000000000077", "17900000000000077", "17900000000000077"),
    ],
    ids=["in-a-comment", "in-a-caption"],
)
def test_an_instagram_mention_is_answered_through_the_accounts_mentions_edge(
    fake: Fake, tmp_path: Path, mention: str, media: str, under: str
) -> None:
    """A brand @mentioned on someone else's media cannot reply with /replies (not its
    comment): Instagram's POST /{ig-user}/mentions takes the media (and comment)."""
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="instagram", in_reply_to=mention, conversation_id=mention)
    delivery = deliver(adapter, message, "Thanks for the shout-out, Jo!")
    [post] = fake.posts()
    assert post["path"] == "/v21.0/3000/mentions"  # the fake's Instagram account
    assert (post["kind"], post["media"], post["in_reply_to"]) == ("mention_reply", media, under)
    assert delivery.id == post["id"]
