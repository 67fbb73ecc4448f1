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
from typing import Any

import httpx
from temporalio.client import Client

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import (
    BRAND_X_USER_ID,
    Customer,
    send,
    x_activity_direct_message,
    x_activity_post,
)
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
from tests.end_to_end.test_x_conversations import _has_message, _holds
from tests.harness import dev_server, round_the_clock_pack
from workflows import search

CARA = Customer(id="40201", handle="cara_d", name="Cara D", followers=120)
MENTION = "2090000000000000101"
REPLY = "2090000000000000102"
DM = "2090000000000000103"


def test_activity_api_mention_reply_and_dm_are_one_inquiry(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            fake_port, intake_port = free_port(), free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            settings = Settings(
                rules=str(pack),
                home=tmp_path,
                temporal=TemporalSettings(address=address, task_queue="e2e-x-activity"),
                platform=PlatformSettings(
                    adapter="platform", x_api_base=fake_url, x_bearer_token=DEFAULT_TOKEN
                ),
                webhooks=WebhookSecrets(x_consumer_secret=SECRETS.x_consumer_secret),
                api=ApiTokenSettings(tokens=TOKENS),
            )

            async def client_factory() -> Client:
                return await connect(Connection.of(settings))

            intake_app = create_app(settings, client_factory, load_ruleset(pack))
            intake = ThreadedServer(intake_app, intake_port, "e2e-xaa-intake", "critical")
            fake_app = fake_platform_app(intake_url=intake.url, secrets=SECRETS)
            fake = ThreadedServer(fake_app, fake_port, "e2e-xaa-fake", "critical")
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
    ours = await eventually(lambda: reply_of(MENTION), "careflow's reply to the mention")
    await eventually(lambda: _holds(thread, wid, ours["id"]), "the reply's id in CareThread")

    # She answers careflow's reply: X's post.reply.create names the thread and the reply.
    posted_before = len(await tweets())
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
    followed = await eventually(lambda: _has_message(client, wid, REPLY), "her reply")
    assert followed.step != "closed"

    # Then a DM: it reaches the same inquiry (her open public one on X).
    dm = x_activity_direct_message(
        DM, CARA, BRAND_X_USER_ID, "my email is cara@example.com", _now()
    )
    assert dm.body["data"]["event_type"] == "dm.received"
    answer = (await send(http, api, dm, SECRETS)).json()
    assert answer["continued"] == [wid] and answer["started"] == [], answer
    await eventually(lambda: _has_message(client, wid, DM), "her DM on the inquiry")
    assert [row.id for row in await list_open(client)] == [wid]
    await asyncio.sleep(1)  # anything the reply or the DM would wrongly set off has had time
    assert len(await tweets()) == posted_before


def _now() -> datetime:
    return datetime.now(UTC)
