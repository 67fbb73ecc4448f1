"""Real Meta webhook bodies (tests/channels/meta_payloads/, sources in its README) normalized:
what each becomes, so careflow is held to what Meta sends rather than to its own fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from careflow.channels import meta
from careflow.channels.common import ECHO
from careflow.settings import BrandAccounts

CORPUS = Path(__file__).parent / "meta_payloads"
FILES = sorted(CORPUS.glob("*.json"))
PAGE_IMAGE = "https://scontent-fra3-1.xx.fbcdn.net/v/t31.0-8/16715996_472849323104563_2289972788116415727_o.jpg?oh=7e0959913ff772d51e17b6d2bdebf44f&oe=593B77BB"
IG_CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17997515821557846&"
MID = "mid.1458696618141:b4ef9d19ec21086067"
EDIT_MID = "mid.1457764197618:41d102a3e1ae206a38"

# file stem → what it becomes: ("inquiry", {field: value}) / ("echo", id) / ("ignored", reason
# fragment). Inquiry fields: channel, kind, id, conversation_id, author (id), handle, text,
# attachments [(type, url prefix)].
EXPECTED: dict[str, tuple[str, Any]] = {
    # The Page's own comment (sender_id is the Page): an echo, with its photo kept.
    "restfb-feed-comment-add-with-photo": ("echo", "901097836652708_903438993085259"),
    # The Page editing its own comment (sender_id is the Page): not a customer's change.
    "restfb-feed-comment-edited-25": ("ignored", "the brand's own edit"),
    # A visitor edited their post on the Page: the new text, for the inquiry keyed on the post.
    "restfb-feed-post-edit": (
        "change",
        {
            "kind": "edit",
            "id": "1234567890321_7293787835232",
            "channel": "facebook",
            "private": False,
            "conversation_id": "1234567890321_7293787835232",
            "author": "8423678347823",
            "text": "Let's check this",
        },
    ),
    "restfb-feed-photo-add-message": ("ignored", "the Page's own post"),
    "restfb-feed-post-add-25": (
        "inquiry",
        {
            "channel": "facebook",
            "kind": "public",
            "id": "1234567890321_7293787835232",
            "conversation_id": "1234567890321_7293787835232",
            "author": "8423678347823",
            "handle": "John Doe",
            "text": "Let's check this",
        },
    ),
    "restfb-feed-reaction-add": ("ignored", "feed reaction add: not a new post or comment"),
    "restfb-feed-status-add-photos": ("ignored", "the Page's own post"),
    "restfb-feed-video-add": ("ignored", "the Page's own post"),
    "restfb-instagram-messaging-attachment-unsupported": (
        "inquiry",
        {
            "channel": "instagram",
            "kind": "private",
            "conversation_id": "5614879045272581",
            "text": "(attachment)",
            "attachments": [("unsupported_type", IG_CDN)],
        },
    ),
    "restfb-instagram-wh-comments-2021": (
        "inquiry",
        {
            "channel": "instagram",
            "kind": "public",
            "id": "123456789",
            "conversation_id": "987654321",
            "author": "1234536447",
            "handle": "testuser",
            "text": "This is an example.",
        },
    ),
    # The older form: no `from`, no media; the author is unknown, not a 422.
    "restfb-instagram-wh-comments": (
        "inquiry",
        {
            "channel": "instagram",
            "id": "123456789",
            "author": "unknown",
            "text": "This is an example.",
        },
    ),
    "restfb-instagram-wh-livecomments": ("inquiry", {"channel": "instagram", "id": "123456789"}),
    "restfb-instagram-wh-mentions": (
        "inquiry",
        {
            "channel": "instagram",
            "kind": "public",
            "id": "mention:17887498072083520:17887498072083520",  # media, comment
            "author": "unknown",
            "text": "(mentioned the account in a comment; the webhook carries no text)",
        },
    ),
    "restfb-mention-comment-add": (
        "inquiry",
        {
            "channel": "facebook",
            "id": "7363534231324_3754798971271444",
            "author": "unknown",
            "text": "Just a test message",
        },
    ),
    "restfb-mention-post-add-real": (
        "inquiry",
        {
            "channel": "facebook",
            "id": "1234567890321_98722536423179",
            "text": "A test post message",
        },
    ),
    "restfb-mention-post-add": (
        "inquiry",
        {
            "id": "44444444_444444444",
            "author": "44444444",
            "handle": "Example Name",
            "text": "(mentioned the Page in a post)",
        },
    ),
    # is_echo to the Page itself: no customer conversation to record it in.
    "restfb-messaging-message-basic-echo": ("ignored", ECHO),
    "restfb-messaging-message-edits": (
        "change",
        {
            "kind": "edit",
            "id": EDIT_MID,
            "channel": "messenger",
            "private": True,
            "conversation_id": "987654321432",
            "author": "987654321432",
            "text": "hello, world!",
        },
    ),
    "restfb-messaging-message-fallback-attachment": (
        "inquiry",
        {
            "channel": "messenger",
            "id": MID,
            "text": "(link)",
            "attachments": [("fallback", "https://www.messenger.com/")],
        },
    ),
    "restfb-messaging-message-isdeleted": (
        "change",
        {
            "kind": "withdrawn",
            "id": "message_id",
            "channel": "messenger",
            "private": True,
            "conversation_id": "987654321432",
            "text": None,
        },
    ),
    "restfb-messaging-message-isunsupported": ("ignored", "is_unsupported"),
    "restfb-messaging-message-media-attachment": (
        "inquiry",
        {
            "channel": "messenger",
            "kind": "private",
            "id": MID,
            "conversation_id": "987654321432",
            "text": "(photo)",
            "attachments": [("image", "IMAGE_URL")],
        },
    ),
    "restfb-messaging-message-sticker": (
        "inquiry",
        {"text": "(sticker)", "attachments": [("sticker", "https://scontent.xx.fbcdn.net/")]},
    ),
    "restfb-messaging-read-basic": ("ignored", "messaging event 'read': not a message"),
    "restfb-standby-message-basic-echo": ("ignored", ECHO),
}


def test_every_file_of_the_corpus_has_an_expected_result() -> None:
    assert {path.stem for path in FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_a_real_payload_normalizes_as_expected(path: Path) -> None:
    found = meta.webhook(json.loads(path.read_text()), BrandAccounts())
    assert found.problems == [], "a real payload careflow cannot read"
    assert found.received == 1
    outcome, expected = EXPECTED[path.stem]
    if outcome == "echo":
        assert [post.id for post in found.echoes] == [expected]
    elif outcome == "ignored":
        (ignored,) = found.ignored
        assert expected in ignored.reason
    elif outcome == "change":
        (change,) = found.changes
        seen_change = {
            "kind": change.kind,
            "id": change.id,
            "channel": change.channel,
            "private": change.private,
            "conversation_id": change.conversation_id,
            "author": change.author["id"],
            "text": change.text,
        }
        assert {key: seen_change[key] for key in expected} == expected
    else:
        (post,) = found.inquiries
        expected = dict(expected)
        attachments = expected.pop("attachments", None)
        seen = {
            "channel": post.channel,
            "kind": post.kind,
            "id": post.id,
            "conversation_id": post.conversation_id,
            "author": post.author.id,
            "handle": post.author.handle,
            "text": post.text,
        }
        assert {key: seen[key] for key in expected} == expected
        if attachments is not None:
            assert len(post.attachments) == len(attachments)
            for attachment, (kind, url) in zip(post.attachments, attachments, strict=True):
                assert attachment.type == kind
                assert (attachment.url or "").startswith(url)
        elif post.text.startswith("("):
            assert post.attachments or "mention" in post.text


def test_the_pages_photo_comment_keeps_its_photo() -> None:
    body = json.loads((CORPUS / "restfb-feed-comment-add-with-photo.json").read_text())
    (echo,) = meta.webhook(body, BrandAccounts()).echoes
    assert [(a.type, a.url) for a in echo.attachments] == [("image", PAGE_IMAGE)]
    assert echo.text == "and the next one"
