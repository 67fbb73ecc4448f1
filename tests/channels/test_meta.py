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


# ---------------------------------------------------------------------- what Meta really sends


def test_a_mixed_messenger_batch_takes_the_message_and_says_why_not_the_others() -> None:
    events = [
        message("61001", PAGE, {"mid": "m_gone", "is_deleted": True}),
        message("61001", PAGE, {"mid": "m_real", "text": "where is my parcel?"}),
        message("61002", PAGE, {"mid": "m_odd", "is_unsupported": True}),
        {"sender": {"id": "61003"}, "timestamp": 1, "message_edit": {"mid": "m_1", "text": "x"}},
        message("61004", PAGE, {"mid": "m_broken"}),  # no text, no attachments: a problem
        "not an event",
    ]
    found = meta.webhook(delivery("page", {"messaging": events}), NO_BRAND)
    (taken,) = found.inquiries
    assert (taken.id, taken.conversation_id, taken.text) == (
        "m_real",
        "61001",
        "where is my parcel?",
    )
    reasons = {item.id: item.reason for item in found.ignored}
    assert reasons["m_odd"].startswith("is_unsupported")
    # The unsent message and the edit are changes for the inquiries that have them.
    assert [(c.kind, c.id, c.conversation_id, c.text) for c in found.changes] == [
        ("withdrawn", "m_gone", "61001", None),
        ("edit", "m_1", "61003", "x"),
    ]
    assert [(p.id, p.where) for p in found.problems] == [
        ("m_broken", "entry[0].messaging[4]"),
        (None, "entry[0].messaging[5]"),
    ]
    assert found.received == len(events)


def test_standby_messages_are_recorded_like_messaging_ones() -> None:
    """Page Inbox (or another app) owns the thread: the customer's message still joins their
    inquiry, and the other app's answer is the brand's message in it."""
    customer = message("61001", PAGE, {"mid": "m_sb_1", "text": "any news?"})
    inbox_reply = message(PAGE, "61001", {"mid": "m_sb_2", "text": "Shipped!", "is_echo": True})
    inbox_reply["message"]["app_id"] = 263902037430900  # Page Inbox's app
    found = meta.webhook(delivery("page", {"standby": [customer, inbox_reply]}), NO_BRAND)
    (asked,) = found.inquiries
    assert (asked.id, asked.channel, asked.kind, asked.conversation_id) == (
        "m_sb_1",
        "messenger",
        "private",
        "61001",
    )
    (answer,) = found.echoes
    assert (answer.id, answer.conversation_id, answer.text) == ("m_sb_2", "61001", "Shipped!")
    read = {"sender": {"id": "61001"}, "recipient": {"id": PAGE}, "read": {"watermark": 1}}
    ignored = meta.webhook(delivery("page", {"standby": [read]}), NO_BRAND).ignored
    assert [item.reason for item in ignored] == ["messaging event 'read': not a message"]


def feed(value: dict[str, Any]) -> dict[str, Any]:
    return delivery("page", {"changes": [{"field": "feed", "value": value}]})


def test_a_visitor_post_on_the_page_is_an_inquiry_with_its_photos() -> None:
    value = {
        "item": "status",
        "verb": "add",
        "post_id": f"{PAGE}_930",
        "from": {"id": "61001", "name": "Lena Fischer"},
        "photos": ["https://cdn.example/1.png", "https://cdn.example/2.png"],
        "created_time": int(AT.timestamp()),
        "message": "Broken on arrival &amp; no reply",
    }
    (post,) = meta.webhook(feed(value), NO_BRAND).inquiries
    assert (post.id, post.channel, post.kind, post.conversation_id, post.created_at) == (
        f"{PAGE}_930",
        "facebook",
        "public",
        f"{PAGE}_930",
        AT,
    )
    assert post.text == "Broken on arrival & no reply"  # entities unescaped
    assert [(a.type, a.url) for a in post.attachments] == [
        ("image", "https://cdn.example/1.png"),
        ("image", "https://cdn.example/2.png"),
    ]
    photo_only = {**value, "item": "photo", "link": "https://cdn.example/p.jpg", "message": ""}
    del photo_only["photos"]
    (post,) = meta.webhook(feed(photo_only), NO_BRAND).inquiries
    assert (post.text, post.attachments[0].url) == ("(photo)", "https://cdn.example/p.jpg")
    own = {**value, "from": {"id": PAGE, "name": "Acme"}}
    assert (
        meta.webhook(feed(own), NO_BRAND).ignored[0].reason == "the Page's own post: not an inquiry"
    )


def test_a_photo_only_comment_reads_as_a_placeholder_and_keeps_the_photo() -> None:
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": "700_803",
        "post_id": f"{PAGE}_700",
        "parent_id": f"{PAGE}_700",
        "sender_id": 61001,  # the older author fields, no `from`
        "sender_name": "Lena Fischer",
        "photo": "https://cdn.example/c.jpg",
        "created_time": int(AT.timestamp()),
    }
    (comment,) = meta.webhook(feed(value), NO_BRAND).inquiries
    assert (comment.text, comment.author.id, comment.author.name) == (
        "(photo)",
        "61001",
        "Lena Fischer",
    )
    assert [(a.type, a.url) for a in comment.attachments] == [
        ("image", "https://cdn.example/c.jpg")
    ]


def test_page_and_instagram_mentions_are_inquiries() -> None:
    mention = {
        "item": "comment",
        "verb": "add",
        "post_id": "999_1",
        "comment_id": "1_2",
        "message": "@Acme still waiting",
        "created_time": int(AT.timestamp()),
    }
    payload = delivery("page", {"changes": [{"field": "mention", "value": mention}]})
    (post,) = meta.webhook(payload, NO_BRAND).inquiries
    assert (post.id, post.conversation_id, post.author.id, post.text) == (
        "1_2",
        "1_2",
        "unknown",
        "@Acme still waiting",
    )
    removed = delivery(
        "page", {"changes": [{"field": "mention", "value": {**mention, "verb": "remove"}}]}
    )
    assert (
        meta.webhook(removed, NO_BRAND).ignored[0].reason
        == "mention comment remove: not a new mention"
    )
    caption = {"field": "mentions", "value": {"media_id": "17900000000000077"}}
    (ig,) = meta.webhook(delivery("instagram", {"changes": [caption]}), NO_BRAND).inquiries
    # Answered through the account's /mentions edge, so the id names the media (and comment).
    assert (ig.id, ig.channel, ig.kind) == ("mention:17900000000000077", "instagram", "public")
    assert ig.text == "(mentioned the account in a post's caption; the webhook carries no text)"


def test_message_attachments_are_kept_and_named_in_the_placeholder() -> None:
    body = {
        "mid": "m_media",
        "attachments": [
            {"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}},
            {"type": "video", "payload": {"url": "https://cdn.example/b.mp4"}},
            {"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}},
            "junk",
        ],
    }
    payload = delivery("page", {"messaging": [message("61001", PAGE, body)]})
    (post,) = meta.webhook(payload, NO_BRAND).inquiries
    assert post.text == "(photo, video, location)"
    assert [(a.type, a.url) for a in post.attachments] == [
        ("image", "https://cdn.example/a.jpg"),
        ("video", "https://cdn.example/b.mp4"),
        ("location", None),
    ]
    with_text = {**body, "text": "see &quot;this&quot;"}
    payload = delivery("page", {"messaging": [message("61001", PAGE, with_text)]})
    assert meta.webhook(payload, NO_BRAND).inquiries[0].text == 'see "this"'
