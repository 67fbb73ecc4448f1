"""X Activity API (XAA) events normalized on X's door: X's own sample payloads
(tests/channels/x_payloads/activity/, sources in SOURCES.md) with what careflow makes of each,
then the details X's docs leave open, and per-event isolation: an event careflow cannot read is
a problem, never a refusal."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from careflow.channels import x_activity
from careflow.channels.common import Normalized, PayloadError
from careflow.settings import BrandAccounts

ACTIVITY = Path(__file__).parent / "x_payloads" / "activity"
BRAND = "1111111111111111111"  # the filtered user of every sample: the subscribing brand
CUSTOMER = "2222222222222222222"
NO_BRAND = BrandAccounts()


def sample(name: str) -> Any:
    return json.loads((ACTIVITY / f"{name}.json").read_text())


def read(payload: Any, brand: BrandAccounts = NO_BRAND) -> Normalized:
    return x_activity.webhook(payload, brand)


def test_every_sample_is_an_activity_body_and_reads_without_problems() -> None:
    names = sorted(path.stem for path in ACTIVITY.glob("*.json"))
    assert len(names) == 13
    for name in names:
        payload = sample(name)
        assert x_activity.is_activity(payload), name
        found = read(payload)
        assert found.problems == [] and found.received >= 1, name


def test_a_real_mention_is_a_public_inquiry_with_its_author_from_includes() -> None:
    found = read(sample("post.mention.create"))
    (post,) = found.inquiries
    assert (post.id, post.channel, post.kind) == ("2080765813578191303", "x", "public")
    assert post.conversation_id == "2080765813578191303"  # it starts its thread
    assert (post.author.id, post.author.handle, post.author.name) == (
        CUSTOMER,
        "OtherUser",
        "OtherUser",
    )
    assert (post.author.followers, post.author.verified) == (97, False)
    assert post.text == "hey @ExampleUser"
    assert post.created_at == datetime(2026, 7, 24, 21, 23, 23, tzinfo=UTC)
    assert post.url == "https://x.com/OtherUser/status/2080765813578191303"
    assert found.in_reply_to == {} and found.echoes == []


def test_a_real_reply_keeps_its_thread_and_names_the_post_it_answers() -> None:
    found = read(sample("post.reply.create"))
    (post,) = found.inquiries
    assert post.id == "2090000000000000001"
    assert post.conversation_id == "2080761390344937796"  # the thread's root, as X gives it
    assert found.in_reply_to == {"2090000000000000001": "2080761390344937796"}
    # X's sample has no includes: the author is known by id only, the name stays unknown.
    assert (post.author.id, post.author.handle, post.author.name) == (CUSTOMER, CUSTOMER, None)
    assert post.url == "https://x.com/i/web/status/2090000000000000001"


def test_a_real_quote_without_the_quoted_post_links_to_it() -> None:
    (post,) = read(sample("post.quote.create")).inquiries
    assert post.text == (
        "Adding some context to this. https://t.co/xxxxxxxx\n\n"
        "[quoting https://x.com/i/web/status/2080761390344937796]"
    )
    assert post.conversation_id == "2090000000000000002"


def test_a_quote_whose_post_is_in_includes_carries_its_text_marked() -> None:
    payload = sample("post.quote.create")
    original = sample("post.create")["data"]["payload"]  # the brand's post it quotes
    users = sample("post.create")["data"]["includes"]["users"]
    payload["data"]["includes"] = {"tweets": [original], "users": users}
    (post,) = read(payload).inquiries
    assert post.text.endswith("\n\n[quoting @ExampleUser]\n> Hello from the Activity API")


def test_a_real_repost_is_ignored_even_the_brands_own() -> None:
    found = read(sample("post.repost.create"))
    assert [item.as_json() for item in found.ignored] == [
        {"id": "2090000000000000003", "reason": "retweet: a share, not an inquiry"}
    ]
    brand_repost = sample("post.create")
    brand_repost["data"]["payload"]["referenced_tweets"] = [{"type": "retweeted", "id": "1"}]
    found = read(brand_repost)
    assert found.echoes == [] and [i.reason for i in found.ignored] == [
        "retweet: a share, not an inquiry"
    ]


def test_the_brands_own_post_and_dm_are_echoes() -> None:
    (post,) = read(sample("post.create")).echoes  # the filter's user_id names the brand
    assert (post.id, post.author.handle) == ("2080761390344937796", "ExampleUser")
    (sent,) = read(sample("dm.sent")).echoes
    assert (sent.kind, sent.conversation_id) == ("private", "2244994945")  # the customer's
    assert sent.text == "Thanks for the update!"
    # With the brand configured and the filter empty, it is still the brand's.
    payload = sample("post.create")
    payload["data"]["filter"] = {}
    assert read(payload, BrandAccounts(x_user_id=BRAND)).echoes
    assert read(payload).inquiries  # nobody said whose it is: a post like any other


def test_a_real_dm_is_a_private_inquiry_keyed_by_its_sender() -> None:
    (message,) = read(sample("dm.received")).inquiries
    assert (message.id, message.kind, message.conversation_id) == (
        "2080765901528535096",
        "private",
        CUSTOMER,
    )
    assert (message.author.handle, message.author.name, message.author.followers) == (
        "OtherUser",
        "OtherUser",
        97,
    )
    assert message.text == "hello!"
    assert message.created_at == datetime.fromtimestamp(1784928224.372, UTC)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("like.create", "like.create: the brand's own like (not an inquiry)"),
        ("follow.follow", "follow.follow: the brand's own follow (not an inquiry)"),
        (
            "chat.received",
            "chat.received: an encrypted XChat message careflow cannot read (subscribe to "
            "dm.received for legacy DMs)",
        ),
        ("post.delete", "post.delete: deletions are not applied (the inquiry keeps the text)"),
        ("profile.update.bio", "profile.update.bio: not an inquiry"),
        ("oauth.revoke", "oauth.revoke: the account withdrew the app's access (not an inquiry)"),
    ],
)
def test_other_real_events_are_ignored_with_their_reason(name: str, reason: str) -> None:
    payload = sample(name)
    found = read(payload)
    assert found.inquiries == found.echoes == [] and found.problems == []
    assert [item.as_json() for item in found.ignored] == [
        {"id": payload["data"]["event_uuid"], "reason": reason}
    ]


def test_entities_are_unescaped_and_a_long_post_is_read_whole() -> None:
    payload = sample("post.mention.create")
    payload["data"]["payload"]["text"] = "@acme a &lt;b&gt; &amp; c &amp;amp; d"
    (post,) = read(payload).inquiries
    assert post.text == "@acme a <b> & c &amp; d"
    payload["data"]["payload"]["note_tweet"] = {"text": "the whole long text &amp; more"}
    (post,) = read(payload).inquiries
    assert post.text == "the whole long text & more"


def test_a_reply_without_referenced_tweets_uses_in_reply_to_tweet_id() -> None:
    payload = sample("post.reply.create")
    del payload["data"]["payload"]["referenced_tweets"]
    del payload["data"]["payload"]["conversation_id"]
    found = read(payload)
    assert found.in_reply_to == {"2090000000000000001": "2080761390344937796"}
    assert found.inquiries[0].conversation_id == "2080761390344937796"


def test_includes_users_wrapped_in_data_are_read() -> None:
    payload = sample("post.mention.create")
    users = payload["data"]["includes"]["users"]
    payload["data"]["includes"]["users"] = [{"data": user} for user in users]
    (post,) = read(payload).inquiries
    assert post.author.handle == "OtherUser"


def broken(change: Any) -> Normalized:
    payload = sample("post.mention.create")
    change(payload["data"])
    return read(payload)


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda d: d["payload"].pop("author_id"), "data.payload", "author_id: missing"),
        (lambda d: d["payload"].update(text=5), "data.payload", "text: expected a string"),
        (lambda d: d["payload"].update(created_at="yesterday"), "data.payload", "RFC 3339"),
        (lambda d: d["payload"].update(created_at="2026-07-24T21:23:23"), "data.payload", "RFC"),
        (lambda d: d.update(payload=[]), "data.payload", "expected an object, got an array"),
        (lambda d: d["payload"].update(referenced_tweets={}), "data.payload", "an array"),
        (lambda d: d["payload"].update(id="a\nb"), "data.payload", "control"),
        (lambda d: d.pop("event_type"), "data.event_type", "missing"),
    ],
)
def test_an_unreadable_event_is_a_problem_naming_where_never_a_refusal(
    change: Any, where: str, message: str
) -> None:
    found = broken(change)
    assert found.inquiries == found.echoes == []
    (problem,) = found.problems
    assert problem.where == where and message in problem.message, problem


def test_one_unreadable_dm_leaves_the_others_of_its_event() -> None:
    payload = sample("dm.received")
    events = payload["data"]["payload"]["direct_message_events"]
    bad = copy.deepcopy(events[0])
    bad["id"] = "dm-bad"
    del bad["message_create"]["message_data"]
    events.insert(0, bad)
    found = read(payload)
    assert [post.id for post in found.inquiries] == ["2080765901528535096"]
    assert [(p.id, p.where) for p in found.problems] == [
        ("dm-bad", "data.payload.direct_message_events[0]")
    ]


def test_a_body_of_neither_shape_is_a_400_and_account_activity_still_reads() -> None:
    with pytest.raises(PayloadError) as raised:
        read(["not", "an", "object"])
    assert raised.value.status == 400 and "X Activity API" in raised.value.message
    with pytest.raises(PayloadError):
        read({"hello": "world"})  # Account Activity's own 400
    found = read({"data": 7})
    assert [(p.where, p.message) for p in found.problems] == [
        ("data", "expected an object, got a number")
    ]
    assert not x_activity.is_activity({"for_user_id": "1", "data": {}})
