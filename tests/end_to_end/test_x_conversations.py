"""X conversations as customers see them, end to end over real HTTP: Account Activity tweets
carry no ``conversation_id``, so careflow keys an X inquiry on one customer's conversation with
the brand and finds it again from the tweets it holds (``CareThread``).

Two customers answering one brand tweet get two inquiries and two separate replies; a customer
answering careflow's reply continues their inquiry (no new one, no second acknowledgement).
The fake platform sends what X sends: a reply names only the tweet it answers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from careflow.devtools.fake_webhooks import BRAND_ON_X, Customer, send, x_mention
from careflow.temporal import inquiries
from careflow.temporal.inquiries import list_open
from tests.end_to_end.test_end_to_end import ANA, SECRETS, eventually
from tests.end_to_end.x_stack import XStack, run_x_stack

ANN = Customer(id="40101", handle="ann_b", name="Ann B", followers=40)
BOB = Customer(id="40102", handle="bob_c", name="Bob C", followers=75)
BRAND_TWEET = "1870000000000000700"  # the brand's announcement both customers answer


def test_two_customers_under_one_brand_tweet_are_two_conversations(tmp_path: Path) -> None:
    run_x_stack(tmp_path, "e2e-x-threads", story)


async def story(x: XStack) -> None:
    http, client, api = x.http, x.client, x.api

    # Two customers answer the same brand tweet: X names only the tweet each one answers.
    ann_tweet, bob_tweet = "1870000000000000701", "1870000000000000702"
    ann_post = x_mention(
        ann_tweet,
        ANN,
        "@acme my card was charged twice",
        datetime.now(UTC),
        BRAND_TWEET,
        in_reply_to_user=BRAND_ON_X,
    )
    bob_post = x_mention(
        bob_tweet,
        BOB,
        "@acme the app logs me out every hour",
        datetime.now(UTC),
        BRAND_TWEET,
        in_reply_to_user=BRAND_ON_X,
    )
    assert "conversation_id_str" not in ann_post.body["tweet_create_events"][0]
    ann_answer = (await send(http, api, ann_post, SECRETS)).json()
    bob_answer = (await send(http, api, bob_post, SECRETS)).json()
    ann_wid, bob_wid = f"inquiry-x-{BRAND_TWEET}.{ANN.id}", f"inquiry-x-{BRAND_TWEET}.{BOB.id}"
    assert ann_answer["started"] == [ann_wid], ann_answer
    assert bob_answer["started"] == [bob_wid], bob_answer

    # Each gets its own answer, under their own tweet.
    for wid, text in ((ann_wid, "Sorry Ann, refunding it now."), (bob_wid, "Bob, a fix is out.")):
        acked = await http.post(f"{api}/inquiries/{wid}/ack", headers=ANA, json={"text": text})
        assert acked.status_code == 200, acked.text
    to_ann = await eventually(lambda: x.reply_of(ann_tweet), "the reply to Ann")
    to_bob = await eventually(lambda: x.reply_of(bob_tweet), "the reply to Bob")
    assert to_ann["text"].startswith("Sorry Ann") and to_bob["text"].startswith("Bob, a fix")
    ann_status = await inquiries.status(client, ann_wid)
    assert [m.text for m in ann_status.messages if m.direction == "in"] == [
        "@acme my card was charged twice"
    ]

    # Ann answers careflow's reply: it continues her inquiry, no new one, no second ack.
    await eventually(lambda: x.holds(ann_wid, to_ann["id"]), "the reply's id in Ann's CareThread")
    posted_before = len(await x.tweets())
    again = x_mention(
        "1870000000000000703",
        ANN,
        "@acme thanks, when will I see it?",
        datetime.now(UTC),
        to_ann["id"],
        in_reply_to_user=BRAND_ON_X,
    )
    answer = (await send(http, api, again, SECRETS)).json()
    assert answer["started"] == [] and answer["continued"] == [ann_wid], answer
    followed = await eventually(
        lambda: x.has_message(ann_wid, "1870000000000000703"), "Ann's reply on her inquiry"
    )
    assert followed.step != "closed"
    assert sorted(row.id for row in (await list_open(client)).rows) == sorted([ann_wid, bob_wid])
    await asyncio.sleep(1)  # anything the reply would wrongly set off has had time to post
    assert len(await x.tweets()) == posted_before

    # X redelivers it: still Ann's inquiry, counted as a duplicate.
    redelivered = (await send(http, api, again, SECRETS)).json()
    assert redelivered["duplicates"] == [{"id": "1870000000000000703", "inquiry": ann_wid}]
