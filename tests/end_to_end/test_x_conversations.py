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
from typing import Any

import httpx
from temporalio.client import Client

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import BRAND_ON_X, Customer, send, x_mention
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import (
    ApiTokenSettings,
    PlatformSettings,
    Settings,
    TemporalSettings,
    WebhookSecrets,
)
from careflow.temporal import inquiries
from careflow.temporal.connection import Connection, connect
from careflow.temporal.inquiries import list_open
from careflow.temporal.worker import build_worker
from tests.end_to_end.test_end_to_end import ANA, SECRETS, TOKENS, eventually
from tests.harness import dev_server, round_the_clock_pack
from workflows import search

ANN = Customer(id="40101", handle="ann_b", name="Ann B", followers=40)
BOB = Customer(id="40102", handle="bob_c", name="Bob C", followers=75)
BRAND_TWEET = "1870000000000000700"  # the brand's announcement both customers answer


def test_two_customers_under_one_brand_tweet_are_two_conversations(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            fake_port, intake_port = free_port(), free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            settings = Settings(
                rules=str(pack),
                home=tmp_path,
                temporal=TemporalSettings(address=address, task_queue="e2e-x-threads"),
                platform=PlatformSettings(
                    adapter="platform", x_api_base=fake_url, x_bearer_token=DEFAULT_TOKEN
                ),
                webhooks=WebhookSecrets(x_consumer_secret=SECRETS.x_consumer_secret),
                api=ApiTokenSettings(tokens=TOKENS),
            )

            async def client_factory() -> Client:
                return await connect(Connection.of(settings))

            intake_app = create_app(settings, client_factory, load_ruleset(pack))
            intake = ThreadedServer(intake_app, intake_port, "e2e-x-intake", "critical")
            fake_app = fake_platform_app(intake_url=intake.url, secrets=SECRETS)
            fake = ThreadedServer(fake_app, fake_port, "e2e-x-fake", "critical")
            await asyncio.to_thread(intake.start)
            await asyncio.to_thread(fake.start)
            try:
                async with (
                    build_worker(env.client, settings),
                    httpx.AsyncClient(timeout=120) as http,
                ):
                    await story(http, env.client, intake.url, fake_url)
            finally:
                await asyncio.to_thread(fake.stop)
                await asyncio.to_thread(intake.stop)

    asyncio.run(scenario())


async def story(http: httpx.AsyncClient, client: Client, api: str, fake: str) -> None:
    async def tweets() -> list[dict[str, Any]]:
        found = (await http.get(f"{fake}/_fake/posts")).json()
        return [post for post in found if post["kind"] == "tweet"]

    async def reply_of(tweet: str) -> dict[str, Any] | None:
        return next((p for p in await tweets() if p["in_reply_to"] == tweet), None)

    async def thread(wid: str) -> list[str]:
        described = await client.get_workflow_handle(wid).describe()
        return list(described.typed_search_attributes.get(search.THREAD) or [])

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
    to_ann = await eventually(lambda: reply_of(ann_tweet), "the reply to Ann")
    to_bob = await eventually(lambda: reply_of(bob_tweet), "the reply to Bob")
    assert to_ann["text"].startswith("Sorry Ann") and to_bob["text"].startswith("Bob, a fix")
    ann_status = await inquiries.status(client, ann_wid)
    assert [m.text for m in ann_status.messages if m.direction == "in"] == [
        "@acme my card was charged twice"
    ]

    # Ann answers careflow's reply: it continues her inquiry, no new one, no second ack.
    await eventually(
        lambda: _holds(thread, ann_wid, to_ann["id"]), "the reply's id in Ann's CareThread"
    )
    posted_before = len(await tweets())
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
        lambda: _has_message(client, ann_wid, "1870000000000000703"), "Ann's reply on her inquiry"
    )
    assert followed.step != "closed"
    assert sorted(row.id for row in await list_open(client)) == sorted([ann_wid, bob_wid])
    await asyncio.sleep(1)  # anything the reply would wrongly set off has had time to post
    assert len(await tweets()) == posted_before

    # X redelivers it: still Ann's inquiry, counted as a duplicate.
    redelivered = (await send(http, api, again, SECRETS)).json()
    assert redelivered["duplicates"] == [{"id": "1870000000000000703", "inquiry": ann_wid}]


async def _holds(thread: Any, wid: str, tweet: str) -> bool:
    return tweet in await thread(wid)


async def _has_message(client: Client, wid: str, message_id: str) -> Any:
    status = await inquiries.status(client, wid)
    return status if any(m.id == message_id for m in status.messages) else None
