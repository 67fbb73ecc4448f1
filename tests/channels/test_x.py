"""X Account Activity deliveries normalized: tweets are public inquiries, DMs private, the
brand's own posts echoes, other events ignored, and a wrong field is named where it is."""

from __future__ import annotations

from datetime import UTC, datetime
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


def test_a_wrong_field_is_a_422_naming_where_it_is() -> None:
    broken = x_delivery(AT)
    broken["tweet_create_events"][0]["created_at"] = "yesterday"
    assert refusal(broken) == (
        422,
        "tweet_create_events[0].created_at: 'yesterday' is not X's time format "
        "(Wed Oct 10 20:19:24 +0000 2018)",
    )
    no_user = tweet("1", "41001", "maya_r", "hi", AT)
    del no_user["user"]
    assert refusal({"tweet_create_events": [no_user]}) == (
        422,
        "tweet_create_events[0].user: expected an object, got null",
    )
    no_text = dm("8", "41002", BRAND_X, "hi")
    del no_text["message_create"]["message_data"]["text"]
    assert refusal({"direct_message_events": [no_text]}) == (
        422,
        "direct_message_events[0].message_create.message_data.text: missing",
    )
    assert refusal({"for_user_id": "1", "tweet_create_events": {}}) == (
        422,
        "tweet_create_events: expected an array, got an object",
    )
