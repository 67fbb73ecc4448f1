"""End to end, over real HTTP: a customer posts on the fake platform, which sends careflow's
intake the signed webhook; the inquiry runs on a Temporal dev server; agents act through the
agent API; every reply lands on the fake platform exactly once, through 500 and 429 storms.

Everything here is a real server on a free port: the dev server, the intake and agent API
(uvicorn, its own Temporal client), the fake platform, and the worker with the platform adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import Customer, Secrets, send, x_mention
from careflow.engine.ruleset import load_ruleset
from careflow.errors import CareflowError
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
from tests.harness import dev_server, round_the_clock_pack
from workflows.state import InquiryStatus

SECRETS = Secrets(x_consumer_secret="x-consumer-e2e", meta_app_secret="meta-app-e2e")
TOKENS = "tok-ana=agent:Ana,tok-audra=auditor:Audra"
ANA = {"Authorization": "Bearer tok-ana"}
AUDRA = {"Authorization": "Bearer tok-audra"}
SAM = Customer(id="40003", handle="sam_k", name="Sam K", followers=320)
POST_TEXT = "@acme my order still hasn't arrived, it was due last Tuesday. Where is my order??"


async def eventually(check: Callable[[], Awaitable[Any]], what: str, wait: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {wait:.0f}s for {what}")
        await asyncio.sleep(0.2)


def test_a_post_to_the_platform_is_answered_on_the_platform_exactly_once(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            fake_port, intake_port = free_port(), free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            settings = Settings(
                rules=str(pack),
                home=tmp_path,
                temporal=TemporalSettings(address=address, task_queue="e2e"),
                platform=PlatformSettings(
                    adapter="platform",
                    x_api_base=fake_url,
                    x_bearer_token=DEFAULT_TOKEN,
                    meta_graph_base=f"{fake_url}/v21.0",
                    meta_page_token=DEFAULT_TOKEN,
                    notify_webhook_url=f"{fake_url}/hooks/care",
                ),
                webhooks=WebhookSecrets(
                    x_consumer_secret=SECRETS.x_consumer_secret,
                    meta_app_secret=SECRETS.meta_app_secret,
                ),
                api=ApiTokenSettings(tokens=TOKENS),
            )

            async def client_factory() -> Client:
                return await connect(Connection.of(settings))

            intake_app = create_app(settings, client_factory, load_ruleset(pack))
            intake = ThreadedServer(intake_app, intake_port, "e2e-intake", "critical")
            fake_app = fake_platform_app(intake_url=intake.url, secrets=SECRETS)
            fake = ThreadedServer(fake_app, fake_port, "e2e-fake", "critical")
            await asyncio.to_thread(intake.start)
            await asyncio.to_thread(fake.start)
            try:
                async with (
                    build_worker(env.client, settings),
                    httpx.AsyncClient(timeout=120) as http,
                ):
                    await story(http, env.client, intake.url, fake_url, settings)
            finally:
                await asyncio.to_thread(fake.stop)
                await asyncio.to_thread(intake.stop)

    asyncio.run(scenario())


async def story(
    http: httpx.AsyncClient, client: Client, api: str, fake: str, settings: Settings
) -> None:
    async def posts() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await http.get(f"{fake}/_fake/posts")).json()
        return found

    async def status(wid: str) -> InquiryStatus:
        return await inquiries.status(client, wid)

    # A customer tweets at the brand; X sends the signed Account Activity webhook.
    post_id = "1870000000000000501"
    post = x_mention(post_id, SAM, POST_TEXT, datetime.now(UTC))
    answer = await send(http, api, post, SECRETS)
    assert answer.status_code == 200, answer.text
    wid = "inquiry-x-1870000000000000501"
    assert answer.json()["started"] == [wid]

    # X retries the delivery: the same workflow, nothing new.
    again = await send(http, api, post, SECRETS)
    assert again.status_code == 200 and again.json()["started"] == [wid]

    # A forged delivery is refused and starts nothing.
    forged = x_mention("1870000000000000999", SAM, "forged", datetime.now(UTC))
    refused = await send(http, api, forged, replace(SECRETS, x_consumer_secret="not-it"))
    assert refused.status_code == 401
    assert not any(row.id.endswith("999") for row in (await list_open(client)).rows)

    triaged = await eventually(
        lambda: _step_is(status, wid, "acknowledge"), "the inquiry to be triaged"
    )
    assert triaged.category == "late_delivery"
    assert triaged.duplicate_deliveries == 1

    # Agent Ana acknowledges through the agent API: her words, signed, posted as a reply tweet;
    # the late-delivery rules then invite the customer to DM.
    ack = await http.post(
        f"{api}/inquiries/{wid}/ack", headers=ANA, json={"text": "So sorry Sam, on it now."}
    )
    assert ack.status_code == 200, ack.text
    tweets = await eventually(
        lambda: _posts_of(posts, "tweet", 2), "the acknowledgement and the invitation"
    )
    assert tweets[0]["text"] == "So sorry Sam, on it now. ^Ana"
    assert tweets[0]["in_reply_to"] == "1870000000000000501"
    assert "DM" in tweets[1]["text"] or "direct message" in tweets[1]["text"].lower()

    # The customer's DM continues the same inquiry (not a new one keyed by the DM thread).
    dm = await http.post(
        f"{fake}/_fake/webhooks",
        json={
            "channel": "x",
            "kind": "private",
            "author": {"id": SAM.id, "handle": SAM.handle},
            "text": "Order 40012345, email sam.k@example.com",
        },
    )
    assert dm.status_code == 200, dm.text
    assert dm.json()["intake"]["continued"] == [wid]
    await eventually(lambda: _step_is(status, wid, "resolve"), "the DM to privatize")

    # An auditor may read but not reply.
    audra = await http.post(f"{api}/inquiries/{wid}/reply", headers=AUDRA, json={"text": "hi"})
    assert audra.status_code == 403
    queue = await http.get(f"{api}/queue", headers=AUDRA, params={"queue": "logistics"})
    assert [row["id"] for row in queue.json()] == [wid]

    # The platform storms: two 500s, then two 429s with Retry-After. The private reply is
    # retried through all of it and sent exactly once.
    await http.post(f"{fake}/_fake/faults", json={"status": 500, "count": 2})
    await http.post(f"{fake}/_fake/faults", json={"status": 429, "count": 2, "retry_after": 1})
    text = "Found it Sam: your parcel leaves today by express."
    reply = await http.post(
        f"{api}/inquiries/{wid}/reply", headers=ANA, json={"text": text, "private": True}
    )
    assert reply.status_code == 200, reply.text
    assert (await http.get(f"{fake}/_fake/faults")).json()["pending"] == 0
    dms = [p for p in await posts() if p["kind"] == "dm"]
    assert [p["text"] for p in dms] == [f"{text} ^Ana"]
    final = await status(wid)
    assert [m.text for m in final.messages if m.direction == "out"].count(f"{text} ^Ana") == 1
    assert [p["text"] for p in await posts()].count(f"{text} ^Ana") == 1

    # Every post careflow made came back as the platform's echo webhook; the inquiry knew them
    # as its own. A reply someone makes in X's own app is recorded as the brand's native reply.
    native = await http.post(
        f"{fake}/2/tweets",
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        json={
            "text": "@sam_k our team lead is on this too",
            "reply": {"in_reply_to_tweet_id": post_id},
        },
    )
    assert native.status_code == 201
    recorded = await eventually(
        lambda: _native_replies(status, wid), "the native reply to be recorded"
    )
    assert [(m.text, m.by) for m in recorded] == [("@sam_k our team lead is on this too", "acme")]


async def _step_is(
    status: Callable[[str], Awaitable[InquiryStatus]], wid: str, step: str
) -> InquiryStatus | None:
    try:
        found = await status(wid)
    except CareflowError:
        return None
    return found if found.step == step else None


async def _native_replies(
    status: Callable[[str], Awaitable[InquiryStatus]], wid: str
) -> list[Any] | None:
    found = [m for m in (await status(wid)).messages if m.kind == "native_reply"]
    return found or None


async def _posts_of(
    posts: Callable[[], Awaitable[list[dict[str, Any]]]], kind: str, count: int
) -> list[dict[str, Any]] | None:
    found = [post for post in await posts() if post["kind"] == kind]
    return found if len(found) >= count else None
