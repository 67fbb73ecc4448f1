"""A proactive post through the platform adapter: an X post that replies to nothing, a
Facebook Page post, each once per key, even when the platform's answer was lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.activities.adapters.support import (
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
)

TEXT = "The app is down in Denver: we're on it & will post updates here."


def _post(channel: str) -> dict[str, str]:
    return {
        "key": "proactive-outage-spike-denver-1/post",
        "kind": "proactive_post",
        "channel": channel,
        "conversation_id": "",
        "in_reply_to": "",
        "recipient": "",
    }


def test_an_x_proactive_post_is_a_tweet_that_replies_to_nothing(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(**_post("x")), TEXT)
    [post] = fake.posts()
    assert (post["kind"], post["path"], post["text"]) == ("tweet", "/2/tweets", TEXT)
    assert post["in_reply_to"] is None
    assert delivery.id == post["id"]


def test_a_facebook_proactive_post_goes_on_the_page_feed(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(**_post("facebook")), TEXT)
    [post] = fake.posts()
    assert post["kind"] == "page_post" and post["path"].endswith("/feed")
    assert delivery.id == post["id"] and "_" in delivery.id  # Graph's <page>_<post>


@pytest.mark.parametrize(("channel", "first"), [("x", 0), ("facebook", 1)])
def test_a_proactive_post_whose_answer_was_lost_is_found_not_posted_twice(
    fake: Fake, tmp_path: Path, channel: str, first: int
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(**_post(channel))
    fake.fault(drop="after", count=1, skip=first)  # (Meta: after the Page's id, GET /me)
    failure(adapter, message, TEXT)
    again = deliver(adapter, message, TEXT)
    [post] = fake.posts()
    assert again.duplicate is True and again.id == post["id"]


def test_a_proactive_post_too_long_for_x_is_refused_for_good(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    error = failure(adapter, outbound(**_post("x")), "down " * 80)
    assert error.non_retryable and "shorten it" in error.message
    assert fake.posts() == []
