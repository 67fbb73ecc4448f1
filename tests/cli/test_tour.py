"""The README's five-minute tour, as written, twice in a row on one `careflow up` (the rule file
and flags `make run` uses), and the demo's ids: the README's on a fresh home, fresh ones after.

The demo feed itself plays for two minutes; its ids come from ``Demo.free_tag``, tested here on
a dev server, and its stopwatch rules from tests/engine/test_demo_pack.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console

from careflow.devtools.demo import Demo
from careflow.http.serving import free_port
from careflow.http.tokens import digest_hex
from careflow.settings import Settings
from tests.cli.test_service import service
from tests.conftest import EXAMPLES, ROOT
from tests.harness import dev_server
from workflows.messages import WORKFLOW_NAME

DEMO_PACK = ROOT / "rules" / "demo.yaml"
README = (ROOT / "README.md").read_text()
WARRANTY = "inquiry-instagram-1860000000000000005"


def test_the_readme_names_the_ids_the_tour_and_the_demo_make() -> None:
    assert "ID=$(careflow submit examples/inquiries/warranty.json --now --new)" in README
    assert f"{WARRANTY} the first time, …-2 the next" in README
    assert "→ workflow inquiry-x-1860000000000000003\n" in README
    assert "careflow audit report inquiry-x-1860000000000000003 " in README


def test_the_tour_works_as_written_twice_in_a_row(tmp_path: Path) -> None:
    fake_port = free_port()
    fake = f"http://127.0.0.1:{fake_port}"
    extra = ("--fake-platform", "--fake-port", str(fake_port))
    with service(tmp_path / "home", DEMO_PACK, *extra, CAREFLOW_AGENT="Ana") as svc:
        for attempt, expected in enumerate((WARRANTY, f"{WARRANTY}-2")):
            svc.ok("queue")  # 1.
            warranty = str(EXAMPLES / "warranty.json")
            wid = svc.ok("submit", warranty, "--now", "--new").strip()  # 2.
            assert wid == expected, attempt
            dropped = svc.ok("submit", str(EXAMPLES / "spam-giveaway.json"), "--now")
            assert dropped.startswith("dropped: spam (rule drop-giveaway-spam)")
            status = svc.status(wid)  # 3.
            assert status["step"] == "acknowledge"
            due = datetime.fromisoformat(status["clocks"]["acknowledge"]["internal_due"])
            posted = datetime.fromisoformat(status["inquiry"]["created_at"])
            assert due - posted >= timedelta(minutes=3)  # people get minutes to act, not seconds
            svc.ok("ack", wid, "--text", "Sorry about that, checking now.")  # 4.
            # With a token (the one `up` made for Ana) the action is authenticated, not asserted.
            ana = re.search(r"^([^=\s]+)=agent:Ana$", (svc.home / "api-tokens").read_text(), re.M)
            assert ana is not None
            svc.ok("reply", wid, "--text", "Does it still turn on?", "--pending", "--token", ana[1])
            timeline = svc.status(wid)["timeline"]
            replied = [e["actor"] for e in timeline if e["event"] == "message.out"][-1]
            assert replied["authenticated"] is True and replied["role"] == "agent"
            assert replied["channel"] == "cli" and replied["token_id"] == digest_hex(ana[1])[:12]
            refused = svc.run("reply", wid, "--text", "x", "--token", "not-a-token")
            assert refused.returncode == 1 and "not one of the API's tokens" in refused.stderr
            svc.ok("message", wid, "no, it's dead")
            svc.ok("resolve", wid, "--code", "replaced", "--note", "new unit shipped")
            again = svc.run("resolve", wid, "--code", "again")
            assert again.returncode == 1
            assert "already resolved (code replaced): reopen it first" in again.stderr
            assert svc.status(wid)["agent"] == "Ana"
            # The CLI knows only CAREFLOW_AGENT: its actions are marked self-asserted.
            acked = [e for e in svc.status(wid)["timeline"] if e["event"] == "acknowledged"]
            assert acked[0]["actor"] == {
                "name": "Ana",
                "role": None,
                "channel": "cli",
                "token_id": None,
                "authenticated": False,
            }
            asked = svc.status(wid)  # the follow-up asks for a rating 10 s after the resolve
            for _ in range(60):
                if asked["rating_asked_at"] is not None:
                    break
                time.sleep(0.5)
                asked = svc.status(wid)
            assert asked["rating_asked_at"] is not None
            svc.ok("message", wid, "4/5 quick and friendly")
            for _ in range(20):
                rated = svc.status(wid)
                if rated["step"] == "closed":
                    break
                time.sleep(0.5)
            assert rated["rating"]["score"] == 4 and rated["step"] == "closed"
            assert "CSAT: 4/5: quick and friendly" in svc.ok("status", wid)
            for _ in range(40):  # the demo pack samples every closed inquiry for review
                waiting = json.loads(svc.ok("qa", "queue", "--json"))
                if wid in [review["inquiry_id"] for review in waiting]:
                    break
                time.sleep(0.5)
            scored = svc.ok(
                "qa", "review", wid,
                "--score", "empathy=5", "--score", "accuracy=4", "--score", "brand_voice=3",
                "--score", "privacy=2", "--note", "Warm and quick.", "--agent", "Rita",
            )  # fmt: skip
            assert "scored" in scored and "Warm and quick." in scored
            posts = httpx.get(f"{fake}/_fake/posts").json()  # 5.
            assert any(p["text"] == "Sorry about that, checking now. ^Ana" for p in posts)
            assert "Does it still turn on?" in httpx.get(f"{fake}/_fake/").text
            customer = {  # 6.
                "channel": "x",
                "author": {"id": "42", "handle": "you"},
                "text": "@acme my invoice is wrong",
            }
            sent = httpx.post(f"{fake}/_fake/webhooks", json=customer, timeout=30).json()
            assert sent["intake_status"] == 200, sent
            tokens = (svc.home / "api-tokens").read_text()  # 7.
            token = re.search(r"^([^=\s]+)=agent:", tokens, re.M)
            assert token is not None
            api = f"http://127.0.0.1:{svc.api_port}/queue"
            queue = httpx.get(api, headers={"Authorization": f"Bearer {token.group(1)}"})
            assert queue.status_code == 200 and isinstance(queue.json(), list)


def test_the_demo_uses_the_readmes_ids_on_a_fresh_home_and_fresh_ones_after() -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            demo = Demo(env.client, Settings(), Console(quiet=True))
            for expected in ("", "2", "3"):
                assert await demo.free_tag() == expected
                post = demo.example("late-delivery")
                suffix = f"-{expected}" if expected else ""
                assert post.conversation_id == f"1860000000000000003{suffix}"
                await env.client.start_workflow(  # the demo ran: its inquiry exists
                    WORKFLOW_NAME,
                    id=f"inquiry-x-{post.conversation_id}",
                    task_queue="nobody-polls-this",
                )

    asyncio.run(scenario())
