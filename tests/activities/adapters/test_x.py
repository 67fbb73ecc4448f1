"""Posting to X: replies, DMs, threads, long replies by DM (activities/adapters/x.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from careflow.devtools.fake_platform import user_id
from careflow.engine.text_parts import split_text, x_length
from tests.activities.adapters.support import (
    POST_ID,
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
from tests.harness import careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest


def test_an_x_reply_is_a_post_in_reply_to_the_customers(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(), "Hi Jules, yes we do ^Ana")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/2/tweets", "tweet")
    assert post["in_reply_to"] == POST_ID
    assert post["text"] == "Hi Jules, yes we do ^Ana"
    assert (delivery.id, delivery.duplicate) == (post["id"], False)


def test_an_x_private_reply_is_a_dm_to_the_customers_user_id(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(private=True), "Could you send the order number?")
    [post] = fake.posts()
    assert post["path"] == f"/2/dm_conversations/with/{user_id('hikerjules')}/messages"
    assert (post["kind"], post["text"]) == ("dm", "Could you send the order number?")
    assert delivery.id == post["id"]  # the dm_event_id


def test_an_x_dm_goes_to_the_posts_author_id_when_known(fake: Fake, tmp_path: Path) -> None:
    """The tweet's author id is their DM participant id: no lookup by a handle that may have
    changed since."""
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(private=True, recipient_id="40014"), "Thanks, checking now")
    [post] = fake.posts()
    assert post["path"] == "/2/dm_conversations/with/40014/messages"


def test_the_fake_refuses_a_post_over_280_characters_like_x(fake: Fake) -> None:
    response = httpx.post(
        f"{fake.url}/2/tweets",
        json={"text": "x" * 281},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["detail"]


def test_a_long_x_reply_is_a_numbered_thread(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)  # about 630 characters
    delivery = deliver(adapter, outbound(), text)
    posts = fake.posts()
    assert len(posts) == delivery.parts == 3
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(x_length(p["text"]) <= 280 for p in posts)
    assert " ".join(unnumbered(p["text"]) for p in posts) == text
    # Each part answers the one before; the first answers the customer.
    assert [p["in_reply_to"] for p in posts] == [POST_ID, posts[0]["id"], posts[1]["id"]]
    assert (delivery.id, delivery.private, delivery.text) == (posts[0]["id"], None, text)


def test_a_thread_failing_after_part_two_posts_only_part_three_again(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)
    fake.fault(status=500, count=1, skip=2)  # parts 1 and 2 go through, part 3 fails
    error = failure(adapter, outbound(), text)
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert [unnumbered(p["text"])[-8:] for p in fake.posts()] == [
        unnumbered(t)[-8:] for t in split_text(text, 280, x_length)[:2]
    ]
    # The activity's retry, from another worker sharing $CAREFLOW_HOME.
    retried = deliver(adapter_of(settings(fake, tmp_path)), outbound(), text)
    posts = fake.posts()
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert posts[2]["in_reply_to"] == posts[1]["id"]
    assert (retried.id, retried.parts, retried.duplicate) == (posts[0]["id"], 3, False)
    again = deliver(adapter, outbound(), text)
    assert (again.id, again.parts, again.duplicate) == (posts[0]["id"], 3, True)
    assert len(fake.posts()) == 3


def test_a_long_x_reply_can_go_by_dm_with_a_public_pointer(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)
    delivery = deliver(adapter, outbound(long_replies="private"), text)
    dm, pointer = fake.posts()
    assert (dm["kind"], dm["text"], dm["recipient"]) == ("dm", text, user_id("hikerjules"))
    assert (pointer["kind"], pointer["in_reply_to"]) == ("tweet", POST_ID)
    assert pointer["text"] == "@hikerjules we've sent you a DM with the details."
    assert (delivery.id, delivery.private, delivery.parts) == (dm["id"], True, 1)
    again = deliver(adapter, outbound(long_replies="private"), text)
    assert (again.private, again.duplicate, len(fake.posts())) == (True, True, 2)


def test_a_post_with_a_long_url_fits_as_x_counts_it(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = "Here is the form: https://help.example.com/" + "r" * 300
    delivery = deliver(adapter, outbound(), text)
    [post] = fake.posts()
    assert (post["text"], delivery.parts) == (text, 1)


def test_a_long_agent_reply_through_the_workflow_is_one_thread(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            await h.status(handle)
            await asyncio.to_thread(fake.fault, status=500, count=1, skip=1)  # part 2 fails once
            await handle.execute_update(InquiryWorkflow.reply, ReplyRequest(agent="Ana", text=text))
            status = await h.status(handle)
            assert status.escalations == []
            tweets = [p for p in await asyncio.to_thread(fake.posts) if p["kind"] == "tweet"]
            thread = [p for p in tweets if p["text"].endswith("/3)")]
            assert [p["text"][-5:] for p in thread] == ["(1/3)", "(2/3)", "(3/3)"]
            assert status.messages[-1].id == thread[0]["id"]
            assert await asyncio.to_thread(fake.pending) == 0  # the fault was met, and retried

    asyncio.run(scenario())
