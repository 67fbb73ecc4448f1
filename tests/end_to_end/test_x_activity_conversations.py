"""X Activity API events end to end over real HTTP, with a worker and the fake platform: XAA
posts carry ``conversation_id``, and careflow keys and finds the customer's conversation with it
the same way as Account Activity's.

A ``post.mention.create`` starts an inquiry that careflow acknowledges on X; the customer's
``post.reply.create`` to careflow's reply continues it (no new inquiry, nothing more posted);
their ``dm.received`` reaches the same inquiry. The events come from the fake platform's XAA
builders (``x_activity_post``, ``x_activity_direct_message``), in the shape of X's samples.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from careflow.devtools.fake_webhooks import (
    BRAND_X_USER_ID,
    Customer,
    send,
    x_activity_direct_message,
    x_activity_post,
)
from careflow.temporal import inquiries
from careflow.temporal.inquiries import list_open
from tests.end_to_end.test_end_to_end import ANA, SECRETS, eventually
from tests.end_to_end.x_stack import XStack, run_x_stack

CARA = Customer(id="40201", handle="cara_d", name="Cara D", followers=120)
MENTION = "2090000000000000101"
REPLY = "2090000000000000102"
DM = "2090000000000000103"


def test_activity_api_mention_reply_and_dm_are_one_inquiry(tmp_path: Path) -> None:
    run_x_stack(tmp_path, "e2e-x-activity", story)


async def story(x: XStack) -> None:
    http, client, api = x.http, x.client, x.api

    # A mention starts its own thread: its conversation_id is itself.
    mention = x_activity_post(
        "post.mention.create", MENTION, CARA, "@acme my order &amp; refund are stuck", _now()
    )
    answer = (await send(http, api, mention, SECRETS)).json()
    wid = f"inquiry-x-{MENTION}"
    assert answer["started"] == [wid] and answer["problems"] == [], answer
    status = await inquiries.status(client, wid)
    assert (status.inquiry.author.handle, status.inquiry.text) == (
        "cara_d",
        "@acme my order & refund are stuck",
    )

    # careflow acknowledges it on X, under her tweet.
    acked = await http.post(
        f"{api}/inquiries/{wid}/ack", headers=ANA, json={"text": "Sorry Cara, looking now."}
    )
    assert acked.status_code == 200, acked.text
    ours = await eventually(lambda: x.reply_of(MENTION), "careflow's reply to the mention")
    await eventually(lambda: x.holds(wid, ours["id"]), "the reply's id in CareThread")

    # She answers careflow's reply: X's post.reply.create names the thread and the reply.
    posted_before = len(await x.tweets())
    reply = x_activity_post(
        "post.reply.create",
        REPLY,
        CARA,
        "@acme thanks! order 5521",
        _now(),
        conversation_id=MENTION,
        in_reply_to=ours["id"],
        with_author=False,  # as X's own sample: no includes
    )
    answer = (await send(http, api, reply, SECRETS)).json()
    assert answer["started"] == [] and answer["continued"] == [wid], answer
    followed = await eventually(lambda: x.has_message(wid, REPLY), "her reply")
    assert followed.step != "closed"

    # Then a DM: it reaches the same inquiry (her open public one on X).
    dm = x_activity_direct_message(
        DM, CARA, BRAND_X_USER_ID, "my email is cara@example.com", _now()
    )
    assert dm.body["data"]["event_type"] == "dm.received"
    answer = (await send(http, api, dm, SECRETS)).json()
    assert answer["continued"] == [wid] and answer["started"] == [], answer
    await eventually(lambda: x.has_message(wid, DM), "her DM on the inquiry")
    assert [row.id for row in (await list_open(client)).rows] == [wid]
    await asyncio.sleep(1)  # anything the reply or the DM would wrongly set off has had time
    assert len(await x.tweets()) == posted_before


def _now() -> datetime:
    return datetime.now(UTC)
