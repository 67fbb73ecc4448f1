"""X Activity API deliveries through the real intake: X documents the same challenge (``GET
?crc_token=``) and the same ``x-twitter-webhooks-signature`` for its V2 webhooks as for Account
Activity (xdevplatform/docs, x-api/webhooks/quickstart.mdx), so one door serves both shapes.
A signed XAA body is a 200 whatever its event holds; Temporal is asked only for an event read as
an inquiry or a brand post; a forged one is a 401 that reaches nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import Client

from careflow.channels import x_activity
from careflow.errors import CareflowError
from careflow.http.app import create_app
from careflow.http.webhooks import X_SIGNATURE
from tests.channels.test_x_activity import sample
from tests.http.test_webhook_intake import (
    FUZZ,
    RULESET,
    SECRETS,
    X_SECRET,
    call,
    never_connect,
    request,
)


def x_signed(body: bytes) -> dict[str, str]:
    """The header as X's quickstart computes it: base64 HMAC-SHA256 of the raw body, keyed
    with the app's consumer secret, after ``sha256=``."""
    digest = hmac.new(X_SECRET.encode(), body, hashlib.sha256).digest()
    return {X_SIGNATURE: "sha256=" + base64.b64encode(digest).decode()}


def deliver(payload: Any, connect: Any = never_connect, **headers: str) -> httpx.Response:
    raw = json.dumps(payload).encode()
    app = create_app(SECRETS, connect, RULESET)
    sent = {**x_signed(raw), **headers}
    return asyncio.run(request(app, "POST", "/webhooks/x", content=raw, headers=sent))


def test_the_crc_of_an_activity_webhook_is_the_documented_response_token() -> None:
    token = "challenge_string"  # the quickstart's own example query
    answer = call("GET", "/webhooks/x", params={"crc_token": token})
    digest = hmac.new(X_SECRET.encode(), token.encode(), hashlib.sha256).digest()
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def test_a_signed_activity_event_without_inquiries_needs_no_temporal() -> None:
    answer = deliver(sample("like.create"))
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert (said["received"], said["started"], said["problems"]) == (1, [], [])
    assert said["ignored"][0]["reason"] == "like.create: the brand's own like (not an inquiry)"


def test_a_forged_or_unsigned_activity_event_is_401_and_reaches_nothing() -> None:
    payload = sample("post.mention.create")
    forged = deliver(payload, **{X_SIGNATURE: "sha256=" + base64.b64encode(b"x" * 32).decode()})
    assert forged.status_code == 401 and "does not match" in forged.json()["error"]
    raw = json.dumps(payload).encode()
    app = create_app(SECRETS, never_connect, RULESET)
    unsigned = asyncio.run(request(app, "POST", "/webhooks/x", content=raw))
    assert unsigned.status_code == 401


def test_an_unreadable_activity_event_is_a_problem_in_a_200() -> None:
    payload = sample("post.mention.create")
    del payload["data"]["payload"]["author_id"]
    answer = deliver(payload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["problems"] == [
        {
            "id": "2080765813578191303",
            "where": "data.payload",
            "message": "data.payload.author_id: missing",
        }
    ]


def test_a_mention_reaches_for_temporal_and_temporal_down_is_503() -> None:
    async def down() -> Client:
        raise CareflowError("cannot reach Temporal")

    answer = deliver(sample("post.mention.create"), down)
    assert answer.status_code == 503  # X retries; nothing was started


# ---------------------------------------------------------------------- fuzzing

ids = st.one_of(
    st.from_regex(r"[0-9]{1,19}", fullmatch=True),
    st.sampled_from(["", " ", "a/..", "x\u202e", "1" * 600]),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.none(),
    st.booleans(),
)
texts = st.one_of(st.text(max_size=30), st.none(), st.integers())
times = st.one_of(
    st.sampled_from(
        ["2026-07-24T21:23:23.000Z", "2026-07-24T21:23:23", "9999-12-31T00:00:00Z", "soon", ""]
    ),
    st.integers(),
    st.none(),
)
users = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "username": texts,
        "name": texts,
        "verified": st.one_of(st.booleans(), texts),
        "public_metrics": st.one_of(
            st.fixed_dictionaries({"followers_count": st.one_of(st.integers(), texts)}), texts
        ),
    },
)
wrapped_users = st.one_of(users, st.fixed_dictionaries({"data": users}), texts)
references = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["replied_to", "quoted", "retweeted", "x", None]),
        "id": ids,
    },
)
posts = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "text": texts,
        "author_id": ids,
        "created_at": times,
        "conversation_id": ids,
        "in_reply_to_tweet_id": ids,
        "referenced_tweets": st.one_of(st.lists(references, max_size=3), texts),
        "note_tweet": st.one_of(st.fixed_dictionaries({"text": texts}), texts),
    },
)
direct_messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message_create", "other", None]),
        "id": ids,
        "created_timestamp": st.one_of(st.integers(min_value=-(10**16), max_value=10**16), texts),
        "message_create": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "sender_id": ids,
                    "target": st.fixed_dictionaries({}, optional={"recipient_id": ids}),
                    "message_data": st.one_of(st.fixed_dictionaries({"text": texts}), texts),
                },
            ),
            texts,
        ),
    },
)
dm_payloads = st.fixed_dictionaries(
    {},
    optional={
        "direct_message_events": st.one_of(st.lists(direct_messages, max_size=3), texts),
        "users": st.one_of(st.dictionaries(st.text(max_size=5), wrapped_users, max_size=2), texts),
    },
)
events = st.fixed_dictionaries(
    {},
    optional={
        "event_uuid": ids,
        "filter": st.one_of(st.fixed_dictionaries({}, optional={"user_id": ids}), texts),
        "event_type": st.one_of(
            st.sampled_from(
                [
                    "post.mention.create",
                    "post.reply.create",
                    "post.quote.create",
                    "post.repost.create",
                    "post.create",
                    "dm.received",
                    "dm.sent",
                    "like.create",
                    "follow.follow",
                    "chat.received",
                ]
            ),
            texts,
        ),
        "payload": st.one_of(posts, dm_payloads, texts, st.lists(posts, max_size=1)),
        "includes": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "users": st.one_of(st.lists(wrapped_users, max_size=2), texts),
                    "tweets": st.one_of(st.lists(posts, max_size=2), texts),
                },
            ),
            texts,
        ),
    },
)
bodies = st.fixed_dictionaries({"data": st.one_of(events, texts, st.lists(events, max_size=2))})


@FUZZ
@given(payload=bodies)
def test_signed_activity_shapes_are_never_a_5xx_and_start_nothing_unreadable(
    payload: dict[str, Any],
) -> None:
    """Whatever a signed XAA-shaped body holds: a 200 or (Temporal asked, here down) a 503,
    never anything else; Temporal is asked exactly when the normalizer read an inquiry or a
    brand post, so bad input starts no workflow; every event the answer does not take is
    ignored with a reason or listed as a problem saying where."""
    asked: list[bool] = []

    async def down() -> Client:
        asked.append(True)
        raise CareflowError("cannot reach Temporal")

    found = x_activity.webhook(payload, SECRETS.brand)
    readable = bool(found.inquiries or found.echoes)
    answer = deliver(payload, down)
    assert answer.status_code in {200, 503}, answer.text
    assert (answer.status_code == 503) == bool(asked)
    if not readable:
        assert answer.status_code == 200 and not asked
        said = answer.json()
        assert said["started"] == said["brand_posts"] == []
        assert said["received"] == len(said["ignored"]) + len(said["problems"]) + len(
            said["dropped"]
        )
        for problem in said["problems"]:
            assert problem["where"] and problem["message"]
        for item in said["ignored"]:
            assert item["reason"]
