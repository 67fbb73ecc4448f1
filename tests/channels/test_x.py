"""X Account Activity deliveries normalized: tweets are public inquiries, DMs private, the
brand's own posts echoes, other events ignored, and a wrong field is named where it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from careflow.channels import x
from careflow.channels.common import ECHO, PayloadError
from careflow.settings import BrandAccounts
from tests.channels.payloads import BRAND_X, tweet, x_delivery

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NO_BRAND = BrandAccounts()


def dm(event_id: str, sender: str, recipient: str, text: str) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(int(AT.timestamp() * 1000)),
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "message_data": {"text": text},
        },
    }


def refusal(payload: Any) -> tuple[int, str]:
    with pytest.raises(PayloadError) as raised:
        x.account_activity(payload, NO_BRAND)
    return raised.value.status, raised.value.message


def test_a_delivery_holds_mentions_dms_echoes_and_ignored_events() -> None:
    found = x.account_activity(x_delivery(AT), NO_BRAND)
    assert found.received == 4
    mention, message = found.inquiries
    assert (mention.id, mention.channel, mention.kind) == ("1870000000000000001", "x", "public")
    assert mention.conversation_id == "1870000000000000001"  # a new thread is its own
    assert (mention.author.id, mention.author.handle, mention.author.name) == (
        "41001",
        "maya_r",
        "Maya_R",
    )
    assert (mention.author.followers, mention.author.verified) == (250, False)
    assert mention.url == "https://x.com/maya_r/status/1870000000000000001"
    assert mention.created_at == AT
    assert (message.id, message.kind, message.conversation_id) == (
        "1870000000000000003",
        "private",
        "41002",  # a DM conversation is keyed by the customer
    )
    assert (message.author.handle, message.author.followers) == ("tom_k", 9)
    assert message.text == "hi, can I change my delivery address?"
    (reply,) = found.echoes  # for_user_id names the brand, with nothing configured
    assert (reply.id, reply.conversation_id) == ("1870000000000000002", "1870000000000000001")
    assert [item.as_json() for item in found.ignored] == [
        {"id": "fav-1", "reason": "favorite_events: not inquiries"}
    ]


def test_a_tweet_joins_its_conversation_root_before_what_it_replies_to() -> None:
    reply = tweet("3", "41001", "maya_r", "and another thing", AT, in_reply_to_status_id_str="2")
    rooted = {**reply, "conversation_id_str": "1"}
    found = x.account_activity({"tweet_create_events": [reply, rooted]}, NO_BRAND)
    assert [post.conversation_id for post in found.inquiries] == ["2", "1"]


def test_the_full_text_of_an_extended_tweet_is_read() -> None:
    long = tweet(
        "1", "41001", "maya_r", "truncated…", AT, extended_tweet={"full_text": "all of it"}
    )
    (post,) = x.account_activity({"tweet_create_events": [long]}, NO_BRAND).inquiries
    assert post.text == "all of it"


def test_the_brands_dm_is_an_echo_in_the_customers_conversation() -> None:
    payload = {"direct_message_events": [dm("5", BRAND_X, "41002", "happy to help")]}
    found = x.account_activity(payload, BrandAccounts(x_user_id=BRAND_X))
    (echo,) = found.echoes
    assert (echo.id, echo.kind, echo.conversation_id, echo.author.id) == (
        "5",
        "private",
        "41002",
        BRAND_X,
    )
    assert echo.author.handle == BRAND_X  # no users entry: the id stands in for the handle


def test_a_brand_dm_to_nobody_and_other_dm_events_are_ignored() -> None:
    to_nobody = dm("6", BRAND_X, "", "?")
    typing = {"type": "typing_indicator", "id": "7"}
    payload = {"for_user_id": BRAND_X, "direct_message_events": [to_nobody, typing]}
    found = x.account_activity(payload, NO_BRAND)
    assert [item.as_json() for item in found.ignored] == [
        {"id": "6", "reason": ECHO},
        {"id": "7", "reason": "direct message event of type 'typing_indicator'"},
    ]
    assert found.inquiries == [] and found.echoes == []


def test_a_payload_that_is_not_account_activity_is_a_400() -> None:
    assert refusal({"hello": 1})[0] == 400
    assert refusal([{"for_user_id": "1"}])[0] == 400


def problems(payload: Any) -> list[tuple[str | None, str, str]]:
    found = x.account_activity(payload, NO_BRAND)
    return [(p.id, p.where, p.message) for p in found.problems]


def test_a_wrong_field_is_a_problem_naming_where_it_is_beside_the_events_taken() -> None:
    """One unreadable event never refuses the others (X would retry the whole delivery, and
    the good events in it would be refused on every retry)."""
    broken = x_delivery(AT)
    broken["tweet_create_events"][0]["created_at"] = "yesterday"
    found = x.account_activity(broken, NO_BRAND)
    assert [(p.where, p.message) for p in found.problems] == [
        (
            "tweet_create_events[0]",
            "tweet_create_events[0].created_at: 'yesterday' is not X's time format "
            "(Wed Oct 10 20:19:24 +0000 2018)",
        )
    ]
    assert found.received == 4  # the DM and the rest beside it are still read
    no_user = tweet("1", "41001", "maya_r", "hi", AT)
    del no_user["user"]
    assert problems({"tweet_create_events": [no_user]}) == [
        ("1", "tweet_create_events[0]", "tweet_create_events[0].user: expected an object, got null")
    ]
    no_text = dm("8", "41002", BRAND_X, "hi")
    del no_text["message_create"]["message_data"]["text"]
    assert problems({"direct_message_events": [no_text]}) == [
        (
            "8",
            "direct_message_events[0]",
            "direct_message_events[0].message_create.message_data.text: missing",
        )
    ]
    assert problems({"for_user_id": "1", "tweet_create_events": {}}) == [
        (None, "tweet_create_events", "expected an array, got an object")
    ]
    assert problems({"for_user_id": "1", "direct_message_events": ["x"]}) == [
        (
            None,
            "direct_message_events[0]",
            "direct_message_events[0]: expected an object, got a string",
        )
    ]


# ---------------------------------------------------------------------- real payloads
# tests/channels/x_payloads/SOURCES.md says where each comes from.

REAL = Path(__file__).parent / "x_payloads"


def real(name: str) -> Any:
    return json.loads((REAL / f"{name}.json").read_text())


def test_a_real_reply_names_what_it_answers_and_has_no_conversation_id() -> None:
    payload = real("reply")
    assert "conversation_id" not in payload["tweet_create_events"][0]
    found = x.account_activity(payload, NO_BRAND)
    (post,) = found.inquiries
    assert (post.id, post.author.handle) == ("867468929492332544", "RobotPrincessFi")
    assert post.conversation_id == "863566329168711681"  # the thread as far as X says: the parent
    assert found.in_reply_to == {"867468929492332544": "863566329168711681"}


def test_a_real_extended_reply_is_read_whole_with_its_entities_unescaped() -> None:
    (post,) = x.account_activity(real("extended-reply-entities"), NO_BRAND).inquiries
    assert post.text.startswith("@notFromShrek @ericmbudd G) 140 chars & replies. Here")
    assert "&amp;" not in post.text
    assert not post.text.endswith("…")  # not the 140-character ``text``


def test_a_real_quote_tweet_carries_the_quoted_text_marked() -> None:
    payload = real("quote-tweet")  # its author quotes herself: as the brand sees it, an echo…
    assert x.account_activity(payload, NO_BRAND).echoes
    payload["for_user_id"] = BRAND_X  # …so read as a customer's, delivered to another account
    (post,) = x.account_activity(payload, NO_BRAND).inquiries
    assert post.text == (
        "M) This is a #QuoteTweet with #hashtags! https://t.co/rw4TMg9O5k\n\n"
        "[quoting @RobotPrincessFi]\n> L) This is a #Tweet with a #hashtag"
    )


def test_a_real_retweet_is_ignored_with_its_reason_even_the_brands_own() -> None:
    payload = real("retweet")
    found = x.account_activity(payload, NO_BRAND)
    assert found.inquiries == [] and found.echoes == []
    assert [i.as_json() for i in found.ignored] == [
        {"id": "867478524235366400", "reason": "retweet: a share, not an inquiry"}
    ]
    author = payload["tweet_create_events"][0]["user"]["id_str"]
    by_brand = x.account_activity(payload, BrandAccounts(x_user_id=author))
    assert by_brand.echoes == [] and len(by_brand.ignored) == 1


def test_the_brands_own_like_and_follow_are_ignored_saying_so() -> None:
    like = x.account_activity(real("brand-like"), NO_BRAND)
    follow = x.account_activity(real("brand-follow"), NO_BRAND)
    assert [i.as_json() for i in like.ignored] == [
        {
            "id": "a7ba59eab0bfcba386f7acedac279542",
            "reason": "favorite_events: the brand's own like (not an inquiry)",
        }
    ]
    assert [i.reason for i in follow.ignored] == [
        "follow_events: the brand's own follow (not an inquiry)"
    ]
    assert like.inquiries == follow.inquiries == []


def test_html_entities_are_unescaped_once() -> None:
    escaped = tweet("1", "41001", "maya_r", "a &lt;b&gt; &amp; c &amp;amp; d", AT)
    (post,) = x.account_activity({"tweet_create_events": [escaped]}, NO_BRAND).inquiries
    assert post.text == "a <b> & c &amp; d"


def test_a_quote_whose_original_is_withheld_keeps_its_own_text() -> None:
    quoting = tweet("2", "41001", "maya_r", "look at this", AT, quoted_status={"id_str": "1"})
    (post,) = x.account_activity({"tweet_create_events": [quoting]}, NO_BRAND).inquiries
    assert post.text == "look at this"
