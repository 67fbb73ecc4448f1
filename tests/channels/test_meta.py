"""Meta deliveries normalized: Page feed comments, Instagram comments, Messenger and Instagram
messages; the Page's or account's own posts are echoes, other changes ignored, and a wrong
field is named where it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careflow.channels import meta
from careflow.channels.common import ECHO, PayloadError
from careflow.settings import BrandAccounts
from tests.channels.payloads import IG_ACCOUNT, PAGE, instagram_delivery, meta_page_delivery

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NO_BRAND = BrandAccounts()


def message(sender: str, recipient: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": int(AT.timestamp() * 1000),
        "message": body,
    }


def delivery(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {"object": kind, "entry": [{"id": PAGE, "time": int(AT.timestamp()), **entry}]}


def refusal(payload: Any) -> tuple[int, str]:
    with pytest.raises(PayloadError) as raised:
        meta.webhook(payload, NO_BRAND)
    return raised.value.status, raised.value.message


def test_a_page_delivery_holds_comments_messages_echoes_and_ignored_changes() -> None:
    found = meta.webhook(meta_page_delivery(AT), NO_BRAND)
    assert found.received == 4
    comment, asked = found.inquiries
    assert (comment.id, comment.channel, comment.kind, comment.conversation_id) == (
        "700_801",
        "facebook",
        "public",
        "700_801",  # a comment on the post itself starts its own thread
    )
    assert (comment.author.id, comment.author.handle, comment.author.name) == (
        "61001",
        "Lena Fischer",
        "Lena Fischer",
    )
    assert (comment.text, comment.created_at) == ("my order never arrived", AT)
    assert (asked.id, asked.channel, asked.kind, asked.conversation_id) == (
        "m_62001_1",
        "messenger",
        "private",
        "62001",
    )
    (answer,) = found.echoes  # is_echo: the Page's message, in the customer's conversation
    assert (answer.id, answer.author.id, answer.conversation_id) == ("m_echo_1", PAGE, "62001")
    assert [item.as_json() for item in found.ignored] == [
        {"id": f"{PAGE}_700", "reason": "feed reaction add: not a new post or comment"}
    ]


def test_a_messenger_message_is_a_private_inquiry_keyed_by_the_sender() -> None:
    payload = delivery(
        "page", {"messaging": [message("61001", PAGE, {"mid": "m_1", "text": "hi"})]}
    )
    (back,) = meta.webhook(payload, NO_BRAND).inquiries
    assert (back.channel, back.kind, back.conversation_id) == ("messenger", "private", "61001")


def test_a_reply_to_a_comment_joins_the_comments_thread() -> None:
    payload = meta_page_delivery(AT)
    value = payload["entry"][0]["changes"][0]["value"]
    value.update(comment_id="700_802", parent_id="700_801", created_time="2026-11-23T10:00:00")
    comment = meta.webhook(payload, NO_BRAND).inquiries[0]
    assert (comment.id, comment.conversation_id, comment.created_at) == ("700_802", "700_801", AT)


def test_the_pages_own_comment_is_an_echo() -> None:
    payload = meta_page_delivery(AT)
    payload["entry"][0]["changes"][0]["value"]["from"] = {"id": PAGE, "name": "Acme"}
    found = meta.webhook(payload, NO_BRAND)  # the entry's id is the Page
    assert [post.id for post in found.echoes] == ["700_801", "m_echo_1"]


def test_an_instagram_comment_is_public_and_timed_by_its_entry() -> None:
    (comment,) = meta.webhook(instagram_delivery(AT), NO_BRAND).inquiries
    assert (comment.id, comment.channel, comment.kind, comment.conversation_id) == (
        "17900000000000001",
        "instagram",
        "public",
        "17900000000000001",
    )
    assert (comment.author.id, comment.author.handle, comment.created_at) == (
        "63001",
        "kai.designs",
        AT,
    )
    mine = instagram_delivery(AT)
    mine["entry"][0]["changes"][0]["value"]["from"]["id"] = IG_ACCOUNT
    assert len(meta.webhook(mine, NO_BRAND).echoes) == 1


def test_instagram_messages_attachments_and_other_events() -> None:
    events = [
        message("63001", IG_ACCOUNT, {"mid": "ig_1", "attachments": [{"type": "image"}]}),
        {"sender": {"id": "63001"}, "recipient": {"id": IG_ACCOUNT}, "read": {"mid": "ig_0"}},
        message(IG_ACCOUNT, IG_ACCOUNT, {"mid": "ig_2", "text": "?", "is_echo": True}),
    ]
    payload = delivery("instagram", {"messaging": events, "changes": [{"field": "mentions"}]})
    payload["entry"][0]["changes"][0]["value"] = {}
    found = meta.webhook(payload, BrandAccounts(instagram_id=IG_ACCOUNT))
    (picture,) = found.inquiries
    assert (picture.channel, picture.kind, picture.text) == ("instagram", "private", "(photo)")
    assert [a.model_dump() for a in picture.attachments] == [{"type": "image", "url": None}]
    # A mention without its media id is a problem of its own; the events beside it are read.
    assert [problem.as_json() for problem in found.problems] == [
        {
            "id": None,
            "where": "entry[0].changes[0]",
            "message": "entry[0].changes[0].value.media_id: missing",
        }
    ]
    assert [item.as_json() for item in found.ignored] == [
        {"id": "ig_0", "reason": "messaging event 'read': not a message"},
        {"id": "ig_2", "reason": ECHO},  # an echo to the brand itself has no customer
    ]


def test_a_payload_of_another_object_is_a_400() -> None:
    assert refusal({"object": "whatsapp_business_account", "entry": []})[0] == 400
    assert refusal({"object": ["page"], "entry": []})[0] == 400
    assert refusal(["page"])[0] == 400


def problems(payload: Any) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in meta.webhook(payload, NO_BRAND).problems]


def test_a_wrong_field_is_a_problem_naming_where_it_is_beside_the_events_taken() -> None:
    no_author = meta_page_delivery(AT)
    del no_author["entry"][0]["changes"][0]["value"]["from"]
    assert problems(no_author) == [
        ("entry[0].changes[0]", "entry[0].changes[0].value.from: expected an object, got null")
    ]
    assert [post.id for post in meta.webhook(no_author, NO_BRAND).inquiries] == ["m_62001_1"]
    no_text = delivery("page", {"messaging": [message("61001", PAGE, {"mid": "m_1"})]})
    assert problems(no_text) == [
        ("entry[0].messaging[0]", "entry[0].messaging[0].message.text: missing")
    ]
    assert meta.webhook(no_text, NO_BRAND).problems[0].id == "m_1"
    untimed = instagram_delivery(AT)
    del untimed["entry"][0]["time"]
    assert problems(untimed) == [
        ("entry[0].changes[0]", "entry[0].time: expected a timestamp, got null")
    ]
    assert problems({"object": "page"}) == [("entry", "expected an array, got null")]
    assert problems({"object": "page", "entry": [7, {"id": [1]}, {"messaging": {}}]}) == [
        ("entry[0]", "expected an object, got a number"),
        ("entry[1]", "entry[1].id: expected an id (string), got an array"),
        ("entry[2].messaging", "expected an array, got an object"),
    ]
