"""Issue 11, end to end on the fake platform: signed webhooks into the intake, inquiries on a
dev server (a DM's intake asks visibility), the platform adapter posting to the fake over HTTP.

- A Messenger customer is greeted by the name Meta's User Profile API gives; one whose profile
  cannot be read (the look-up answers 500) is greeted "Hi there", never by their PSID.
- X with a refresh token only: the first reply refreshes; the token then dies mid-run and the
  agent's reply is refreshed, retried and posted once; no token is in the workflow history.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from activities.adapters.platform import PlatformAdapter
from activities.adapters.x_tokens import TOKEN_FILE
from careflow.devtools.fake_platform import fake_platform_app
from careflow.devtools.fake_reads import made_up_profile
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.http.webhooks import GENERIC_SIGNATURE, META_SIGNATURE
from careflow.settings import PlatformSettings, Settings, TemporalSettings, WebhookSecrets
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest

PAGE_TOKEN = "e2e-page-token-0123456789"
APP_SECRET = "e2e-meta-app-secret-0123456789"
INTAKE_SECRET = "e2e-intake-secret-0123456789"
SEED = "e2e-x-refresh-seed-0123456789"
CLIENT_ID = "e2e-x-client"
PAGE_ID = "1029384756"
KNOWN, UNKNOWN = "24266381753005180", "24266381753005181"


@pytest.fixture
def platform() -> Iterator[str]:
    app = fake_platform_app((PAGE_TOKEN,))
    server = ThreadedServer(app, free_port(), "fake", "critical").start()
    try:
        yield server.url
    finally:
        server.stop()


def messenger_delivery(psid: str, at_ms: int) -> bytes:
    """A Messenger text message as Meta's webhook reference shows one."""
    event = {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": at_ms,
        "message": {"mid": f"m_{psid}", "text": "Where is my order? It has not arrived"},
    }
    entry = {"id": PAGE_ID, "time": at_ms, "messaging": [event]}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def quick_ack_pack(directory: Path) -> Path:
    """The round-the-clock pack whose safety-net acknowledgements go out within seconds."""
    path = round_the_clock_pack(directory)
    text = path.read_text()
    for slow, quick in (
        ("{internal: 30m, published: 60m, warn_before: 10m}", "{internal: 1s, published: 1h}"),
        ("{internal: 10m, published: 30m, warn_before: 5m}", "{internal: 1s, published: 1h}"),
    ):
        assert slow in text, "the default pack's acknowledge windows changed"
        text = text.replace(slow, quick)
    path.write_text(text)
    return path


def posts(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/_fake/posts").json()
    return found


async def wait_for(url: str, kind: str, count: int) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        found = [p for p in await asyncio.to_thread(posts, url) if p["kind"] == kind]
        if len(found) >= count:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {kind} posted: {found}"
        await asyncio.sleep(0.05)


def test_dm_customers_are_greeted_by_name_and_x_tokens_renew_mid_run(
    platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISORS_WEBHOOK_URL", f"{platform}/hooks/supervisors")
    httpx.post(
        f"{platform}/_fake/oauth",
        json={"refresh_token": SEED, "client_id": CLIENT_ID, "expires_in": 7200},
    ).raise_for_status()
    pack = quick_ack_pack(tmp_path)
    settings = Settings(
        rules=str(pack),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="names-tokens-e2e"),
        platform=PlatformSettings(
            adapter="platform",
            x_api_base=platform,
            x_client_id=CLIENT_ID,
            x_refresh_token=SEED,
            meta_graph_base=f"{platform}/v21.0",
            meta_page_token=PAGE_TOKEN,
            notify_webhook_url=f"{platform}/hooks/care",
        ),
        webhooks=WebhookSecrets(generic=INTAKE_SECRET, meta_app_secret=APP_SECRET),
    )
    adapter = PlatformAdapter(settings.platform, settings.deliveries)

    async def scenario() -> None:
        async with await dev_server() as env, build_worker(env.client, settings, adapter):

            async def client_factory() -> Client:
                return env.client

            app = create_app(settings, client_factory, load_ruleset(pack))
            now = await env.get_current_time()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
                for psid in (KNOWN, UNKNOWN):
                    if psid == UNKNOWN:  # the profile look-up fails: Graph answers 500
                        await asyncio.to_thread(
                            httpx.post, f"{platform}/_fake/faults", json={"status": 500}
                        )
                    body = messenger_delivery(psid, int(now.timestamp() * 1000))
                    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
                    answer = await http.post(
                        "/webhooks/meta",
                        content=body,
                        headers={META_SIGNATURE: f"sha256={signature}"},
                    )
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["started"] == [f"inquiry-messenger-{psid}"]
                tweet = example("high-reach", now)
                body = tweet.model_dump_json().encode()
                signature = hmac.new(INTAKE_SECRET.encode(), body, hashlib.sha256).hexdigest()
                answer = await http.post(
                    "/webhooks/generic",
                    content=body,
                    headers={GENERIC_SIGNATURE: f"sha256={signature}"},
                )
                assert answer.status_code == 200, answer.text
                [x_inquiry] = answer.json()["started"]

            messages = await wait_for(platform, "message", 2)
            greeting = {post["recipient"]: post["text"] for post in messages}
            assert greeting[KNOWN].startswith(f"Hi {made_up_profile(KNOWN)['name']},")
            assert greeting[UNKNOWN].startswith("Hi there,")
            assert all(KNOWN not in text and UNKNOWN not in text for text in greeting.values())

            await wait_for(platform, "tweet", 1)  # the X acknowledgement: the first refresh
            await asyncio.to_thread(
                httpx.post, f"{platform}/_fake/oauth", json={"expire_all": True}
            )
            handle = env.client.get_workflow_handle(x_inquiry)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorted: refund sent.")
            )
            tweets = await wait_for(platform, "tweet", 2)
            assert sum("Sorted: refund sent." in post["text"] for post in tweets) == 1
            oauth = (await asyncio.to_thread(httpx.get, f"{platform}/_fake/oauth")).json()
            assert oauth["refreshes"] == 2 and oauth["refused"] == 0

            stored = json.loads((tmp_path / TOKEN_FILE).read_text())
            secrets = [SEED, stored["refresh_token"], stored["access_token"], PAGE_TOKEN]
            history = await handle.fetch_history()
            for event in history.events:
                raw = event.SerializeToString()
                assert not any(secret.encode() in raw for secret in secrets)
        await adapter.aclose()

    asyncio.run(scenario())
