"""Ids Temporal and URLs can take (``careflow.channels.ids``) and post times the clocks can
trust (``careflow.channels.times``), through each platform's normalizer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careflow.channels import generic, meta, x
from careflow.channels.common import Normalized, PayloadError
from careflow.channels.times import clamp_times
from careflow.settings import BrandAccounts
from tests.channels.payloads import instagram_delivery, meta_page_delivery, tweet, x_delivery
from tests.harness import example

NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def generic_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(example("question", NOW).model_dump_json())
    body.update(changes)
    return body


BAD_IDS = {
    "300 emoji (1200 bytes)": "\N{GRINNING FACE}" * 300,
    "NUL": "c\x00d",
    "newline": "c\nd",
    "only spaces": "   ",
    "padded": " c-1 ",
    "right-to-left override": "c\u202e1",
    "dot-dot segment": "a/../b",
    "leading slash": "/a",
    "empty segment": "a//b",
}


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_a_conversation_id_temporal_or_urls_cannot_take_is_422_naming_the_field(
    value: str,
) -> None:
    with pytest.raises(PayloadError) as refused:
        generic.inquiry(generic_body(conversation_id=value))
    assert refused.value.status == 422
    (problem,) = refused.value.problems
    assert problem["field"] == "conversation_id"
    assert refused.value.message.startswith("conversation_id ")


def test_post_and_author_ids_are_checked_too_by_bytes_not_characters() -> None:
    with pytest.raises(PayloadError) as refused:
        body = generic_body(id="\N{GRINNING FACE}" * 200)  # 200 characters, 800 bytes
        body["author"]["id"] = "a\x00"
        generic.inquiry(body)
    assert [p["field"] for p in refused.value.problems] == ["id", "author.id"]
    assert "800 bytes" in refused.value.problems[0]["message"]


@pytest.mark.parametrize("value", ["123_456", "thread/42", "t.1:2-3", "caf\u00e9", "a/b/c"])
def test_usable_ids_pass_including_meta_ids_and_slashes_between_segments(value: str) -> None:
    assert generic.inquiry(generic_body(conversation_id=value)).conversation_id == value
    # Post ids never reach a URL: base64's "//" is fine there.
    assert generic.inquiry(generic_body(id="aGk//x+=")).id == "aGk//x+="


def test_x_and_meta_payloads_name_the_event_whose_id_is_refused() -> None:
    mention = tweet("1870000000000000001", "41001", "maya_r", "@acme hi", NOW)
    mention["conversation_id_str"] = "\N{GRINNING FACE}" * 300
    fine = tweet("1870000000000000003", "41003", "ines_k", "@acme hello", NOW)
    found = x.account_activity(
        {"for_user_id": "1", "tweet_create_events": [mention, fine]}, BrandAccounts()
    )  # X's events are isolated too: the refused one is a problem, the other taken
    (problem,) = found.problems
    assert (problem.id, problem.where) == ("1870000000000000001", "tweet_create_events[0]")
    assert problem.message.startswith("tweet_create_events[0].conversation_id ")
    assert [post.id for post in found.inquiries] == ["1870000000000000003"]

    page = meta_page_delivery(NOW)
    page["entry"][0]["messaging"][0]["sender"]["id"] = "62001\n"
    found = meta.webhook(page, BrandAccounts())  # Meta's events are isolated: a problem each
    (problem,) = found.problems
    assert problem.where == "entry[0].messaging[0]"
    assert problem.message.startswith("entry[0].messaging[0].conversation_id ")
    assert [post.id for post in found.inquiries] == ["700_801"]  # the comment beside it is taken


# ---------------------------------------------------------------------- times


def page_at(at: datetime) -> dict[str, Any]:
    page = meta_page_delivery(NOW)
    value = page["entry"][0]["changes"][0]["value"]
    value["created_time"] = at.strftime("%Y-%m-%dT%H:%M:%S+0000")  # Graph API's ISO form
    for event in page["entry"][0]["messaging"]:
        event["timestamp"] = int(at.timestamp() * 1000)
    return page


PLATFORMS = {
    "x": (lambda at: x.account_activity(x_delivery(at), BrandAccounts()), "2006-03-21"),
    "facebook": (lambda at: meta.webhook(page_at(at), BrandAccounts()), "2004-02-04"),
    "instagram": (lambda at: meta.webhook(instagram_delivery(at), BrandAccounts()), "2010-10-06"),
    "generic": (lambda at: generic_normalized(at), "2000-01-01"),
}


def generic_normalized(at: datetime) -> Normalized:
    body = generic_body(created_at=at.isoformat(), channel="web")
    return Normalized(inquiries=[generic.inquiry(body)])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_time_far_in_the_future_or_before_the_platform_is_the_time_received(
    platform: str,
) -> None:
    normalize, launched = PLATFORMS[platform]
    before = datetime.fromisoformat(launched).replace(tzinfo=UTC) - timedelta(days=1)
    for wrong, reason in ((FAR_FUTURE, "in the future"), (before, f"({launched})")):
        found, clamps = clamp_times(normalize(wrong), NOW)
        posts = [*found.inquiries, *found.echoes]
        assert posts and all(post.created_at == NOW for post in posts)
        assert {clamp.id for clamp in clamps} == {post.id for post in posts}
        # Epoch seconds of year 9999 read as milliseconds (1978): clamped all the same.
        assert all(clamp.reason and clamp.received_at == NOW for clamp in clamps)
        if wrong == before:
            assert all(reason in clamp.reason for clamp in clamps)
            assert clamps[0].as_json()["created_at"].startswith(wrong.date().isoformat())

    plausible = NOW - timedelta(minutes=3)
    found, clamps = clamp_times(normalize(plausible), NOW + timedelta(minutes=2))
    assert clamps == []
    assert {post.created_at for post in found.inquiries} == {plausible}
