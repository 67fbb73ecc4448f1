"""A retry after an attempt that may have landed looks for the post before posting again
(activities/adapters/reconcile.py, posting.py; the fake's read side is
careflow/devtools/fake_reads.py).

The fault ``drop="after"`` makes the fake record the post and then drop the connection: the
platform accepted it, careflow never heard. Every channel's retry must find it: one post."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.adapters.reconcile import Seen, comparable, earlier_attempt, platform_time
from tests.activities.adapters.support import (
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
    words,
)

ONE_POST = [
    pytest.param({}, "tweet", id="x-reply"),
    pytest.param({"conversation_kind": "private", "conversation_id": "42"}, "dm", id="x-dm"),
    pytest.param({"channel": "facebook", "in_reply_to": "123_456"}, "comment", id="facebook"),
    pytest.param({"channel": "instagram", "in_reply_to": "1789"}, "comment", id="instagram"),
    pytest.param(
        {"channel": "messenger", "conversation_kind": "private", "conversation_id": "psid-8"},
        "message",
        id="messenger",
    ),
    pytest.param(
        {"channel": "instagram", "conversation_kind": "private", "conversation_id": "igsid-9"},
        "message",
        id="instagram-dm",
    ),
]


@pytest.mark.parametrize(("changes", "kind"), ONE_POST)
def test_a_post_whose_answer_was_lost_is_found_not_posted_twice(
    fake: Fake, tmp_path: Path, changes: dict[str, Any], kind: str
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(**changes)
    fake.fault(drop="after", count=1)
    failure(adapter, message, "Sorry about the wait & thanks: https://acme.example/orders?id=7")
    again = deliver(
        adapter, message, "Sorry about the wait & thanks: https://acme.example/orders?id=7"
    )
    [post] = fake.posts()
    assert post["kind"] == kind
    assert again.duplicate is True  # nothing was posted by the retry
    assert again.id in (post["id"], f"m_{post['id']}")
    # The record now knows it: a third attempt asks nothing of the platform.
    fake.fault(status=500, count=1)
    assert deliver(adapter, message, "ignored").id == again.id
    assert fake.pending() == 1


def test_a_worker_that_died_mid_thread_leaves_each_part_posted_once(
    fake: Fake, tmp_path: Path
) -> None:
    """Part 2 reached X and the worker died before hearing so: another worker (a new adapter
    on the same $CAREFLOW_HOME) finds part 2 and posts only the rest, part 3 replying to it."""
    text = words(120)
    fake.fault(drop="after", count=1, skip=1)
    failure(adapter_of(settings(fake, tmp_path)), outbound(), text)
    delivery = deliver(adapter_of(settings(fake, tmp_path)), outbound(), text)
    posts = fake.posts()
    assert delivery.parts == len(posts) == 5
    assert [post["text"].rsplit(" ", 1)[1] for post in posts] == [f"({n}/5)" for n in range(1, 6)]
    assert [post["in_reply_to"] for post in posts[1:]] == [post["id"] for post in posts[:-1]]


def test_a_private_reply_meta_says_was_made_is_the_earlier_attempts(
    fake: Fake, tmp_path: Path
) -> None:
    """A Private Reply cannot be looked up, but Meta allows one per comment: after an attempt
    that may have landed, Meta's (#10900) means it did."""
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="facebook", in_reply_to="123_456", private=True)
    fake.fault(drop="after", count=1)
    failure(adapter, message, "We've messaged you")
    again = deliver(adapter, message, "We've messaged you")
    assert [post["kind"] for post in fake.posts()] == ["private_reply"]
    assert again.duplicate is True


def test_a_second_private_reply_is_still_refused(fake: Fake, tmp_path: Path) -> None:
    """Without an earlier attempt of the same key, Meta's (#10900) is a refusal, as before."""
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(channel="facebook", in_reply_to="123_456", private=True), "one")
    refused = failure(
        adapter,
        outbound(
            key="inquiry-x-1/reply/2", channel="facebook", in_reply_to="123_456", private=True
        ),
        "two",
    )
    assert "one private reply" in str(refused)


def test_a_look_up_the_platform_cannot_answer_now_is_retried_not_posted(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop="after", count=1)
    failure(adapter, outbound())
    fake.fault(status=503, count=1)  # the look-up itself
    assert failure(adapter, outbound()).type == "PlatformUnavailable"
    assert len(fake.posts()) == 1
    assert deliver(adapter, outbound(), "hello").duplicate is True
    assert len(fake.posts()) == 1


def test_a_look_up_refused_for_good_posts_again_and_says_so(
    fake: Fake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A token without read access: delivering twice beats never delivering."""
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop="after", count=1)
    failure(adapter, outbound())
    fake.fault(status=403, count=1)
    with caplog.at_level(logging.WARNING, logger="careflow.activities.posting"):
        again = deliver(adapter, outbound(), "hello")
    assert len(fake.posts()) == 2
    assert again.duplicate is False
    assert "could not look for an earlier attempt" in caplog.text


def test_the_same_words_another_key_posted_are_not_taken(fake: Fake, tmp_path: Path) -> None:
    """Two inquiries replying the same words to the same tweet: each keeps its own post."""
    adapter = adapter_of(settings(fake, tmp_path))
    first = deliver(adapter, outbound(key="inquiry-a/acknowledge/1"), "Thanks, looking now")
    fake.fault(drop="after", count=1)
    failure(adapter, outbound(key="inquiry-b/acknowledge/1"), "Thanks, looking now")
    second = deliver(adapter, outbound(key="inquiry-b/acknowledge/1"), "Thanks, looking now")
    assert [post["id"] for post in fake.posts()] == [first.id, second.id]
    assert second.duplicate is True


def test_an_attempt_that_never_reached_the_platform_is_posted(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop=True, count=1)  # dropped before the platform saw it
    failure(adapter, outbound())
    again = deliver(adapter, outbound(), "hello")
    [post] = fake.posts()
    assert (again.id, again.duplicate) == (post["id"], False)


# What the platforms show back, from public sources.

# X API v2, GET /2/users/:id/tweets: the data items' shape (id, text, created_at,
# referenced_tweets) as in X's API reference and twapi-v2's spec of the endpoint
# (docs.rs/crate/twapi-v2, maker/api/get_2_users_id_tweets.yaml). X stores "&" as "&amp;" and
# every link as a t.co link (X's v1.1 example payloads: developer.x.com … /example-payloads,
# "full_text": "… https://t.co/oeF3ZHeKQQ").
X_TIMELINE_ITEM = {
    "id": "1307025659294674945",
    "text": "@hikerjules Sorry &amp; thanks, see https://t.co/oeF3ZHeKQQ",
    "created_at": "2026-11-30T18:36:15.000Z",
    "referenced_tweets": [{"type": "replied_to", "id": "1304102743196356610"}],
}
SENT = "Sorry & thanks, see https://dev.to/twitterdev/understanding-the-new-tweet-payload"


def test_text_as_x_shows_it_back_is_the_text_careflow_sent() -> None:
    assert comparable(X_TIMELINE_ITEM["text"]) == comparable(SENT)  # type: ignore[arg-type]
    assert comparable("Sorry & thanks") != comparable("Sorry & thanks!")


def test_the_earlier_attempt_is_the_oldest_unclaimed_match_since_the_first_attempt() -> None:
    since = datetime(2026, 11, 30, 18, 36, tzinfo=UTC)
    at = platform_time(X_TIMELINE_ITEM["created_at"])
    seen = [
        Seen("old", SENT, since - timedelta(hours=1), "1304102743196356610"),  # before: no
        Seen("elsewhere", SENT, at, "999"),  # replies to another tweet: no
        Seen("mine", str(X_TIMELINE_ITEM["text"]), at, "1304102743196356610"),
        Seen("later", SENT, since + timedelta(minutes=3), "1304102743196356610"),
    ]
    assert earlier_attempt(seen, SENT, "1304102743196356610", since, lambda id: False) == "mine"
    assert earlier_attempt(seen, SENT, "1304102743196356610", since, {"mine"}.__contains__) == (
        "later"
    )
    assert (
        earlier_attempt(seen, "other words", "1304102743196356610", since, set().__contains__)
        is None
    )


def test_both_platforms_times_are_read() -> None:
    # X: "2026-11-30T18:36:15.000Z"; Graph (Page feed and conversations reference):
    # "2026-11-30T18:36:15+0000".
    assert platform_time("2026-11-30T18:36:15.000Z") == platform_time("2026-11-30T18:36:15+0000")
    assert platform_time("not a time") is None
