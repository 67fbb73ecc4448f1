"""A proactive post on a real (dev) server, from the trend's start to the linked replies: a
supervisor lists and approves it over the API; it is posted once, and each open inquiry of its
topic and segment gets one reply (signed by the approver, meeting its clocks), even when the
replies' activity runs again."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.adapters.sandbox import read_outbox
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, Settings, TemporalSettings
from careflow.temporal import inquiries
from careflow.temporal.intake import intake
from careflow.temporal.proactive_activities import ProactiveActivities
from careflow.temporal.trend_activities import TrendActivities
from careflow.temporal.worker import build_worker
from tests.conftest import DEFAULT_PACK
from tests.harness import CUSTOMERS, dev_server, example
from tests.temporal.test_search_attributes import _eventually
from workflows.proactive import ProactivePostWorkflow
from workflows.proactive_types import ProactiveInput, ReplyOpenRequest
from workflows.trend_types import StartRequest

PACK = """
  - name: denver-segment
    on: received
    when: {text: {contains: denver}}
    do: [{set: {segment: denver}}]
"""
TOKENS = "tok-sam=supervisor:Sam,tok-ana=agent:Ana"


def pack(directory: Path) -> Path:
    text = DEFAULT_PACK.read_text().replace("calendar: care-hours", "calendar: always")
    path = directory / "proactive.yaml"
    path.write_text(text + PACK, encoding="utf-8")  # the shipped outage-spike trend
    return path


def test_an_approved_post_goes_out_once_and_each_open_inquiry_gets_one_reply(
    tmp_path: Path,
) -> None:
    rules = pack(tmp_path)
    ruleset = load_ruleset(rules)
    settings = Settings(
        rules=str(rules),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="proactive"),
        api=ApiTokenSettings(tokens=TOKENS),
    )

    async def scenario() -> None:
        async with await dev_server() as env, build_worker(env.client, settings):
            client = env.client
            now = datetime.now(UTC)
            posts = {
                "d1": "@acme site is down in Denver",
                "d2": "@acme Denver: the site is down again",
                "g1": "@acme the site is down",  # another segment: not covered
            }
            ids: dict[str, str] = {}
            for name, text in posts.items():
                post = example("question", now, id=name, conversation_id=name, text=text)
                started_id = (
                    await intake(client, "proactive", post, ruleset, customers=CUSTOMERS)
                ).workflow_id
                assert started_id is not None
                ids[name] = started_id
                await inquiries.status(client, ids[name])  # its rules are loaded

            async def indexed() -> None:
                count = await client.count_workflows("CareSegment = 'denver'")
                assert count.count == 2

            await _eventually(indexed)
            (trend,) = ruleset.rule_file.trends
            started = await TrendActivities(client, "proactive").start_proactive(
                StartRequest(
                    workflow_id="proactive-outage-spike-denver-1",
                    template=ruleset.rule_file.templates["outage_post"],
                    input=ProactiveInput(
                        trend=trend.name,
                        topic="outage",
                        segment="denver",
                        period_start=now,
                        count=2,
                        baseline=0.0,
                        channel="x",
                        draft="",
                        approvers="supervisors",
                        wait_seconds=3600,
                        reply_template=ruleset.rule_file.templates["outage_reply"],
                        variables={"trend": {"segment": "denver"}, "brand": {"name": "Acme"}},
                    ),
                )
            )
            assert started.started
            await _api(client, settings)
            handle = client.get_workflow_handle_for(
                ProactivePostWorkflow.run, "proactive-outage-spike-denver-1"
            )
            result = await handle.result()
            assert result.status == "posted" and result.replied == 2
            posted = [e for e in read_outbox(settings.outbox) if e["kind"] == "proactive_post"]
            assert [p["text"] for p in posted] == ["The site is down in Denver: we're on it now."]

            await ActivityEnvironment().run(  # the replies' activity again, as a retry would
                ProactiveActivities(client).reply_open_inquiries,
                ReplyOpenRequest(
                    key=handle.id,
                    topic="outage",
                    segment="denver",
                    template=ruleset.rule_file.templates["outage_reply"],
                    variables={"trend": {"post_url": result.post_url}},
                    agent="Sam",
                ),
            )
            for name in ("d1", "d2"):
                status = await inquiries.status(client, ids[name])
                replies = [m for m in status.messages if m.kind == "reply"]
                assert len(replies) == 1, name
                assert (
                    replies[0].text
                    == f"We're on it: the outage is being fixed, updates here {result.post_url} ^Sam"
                )
                assert status.clocks["acknowledge"].met_at == replies[0].at  # it met the clock
            general = await inquiries.status(client, ids["g1"])
            assert [m for m in general.messages if m.kind == "reply"] == []

    asyncio.run(scenario())


async def _api(client: Client, settings: Settings) -> None:
    """Only supervisors list and decide; the approval answers once the post is out."""

    async def factory() -> Client:
        return client

    app = create_app(dataclasses.replace(settings), factory)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        sam = {"Authorization": "Bearer tok-sam"}
        ana = {"Authorization": "Bearer tok-ana"}
        assert (await api.get("/proactive", headers=ana)).status_code == 403
        listed = (await api.get("/proactive", headers=sam)).json()
        assert [(p["id"], p["status"], p["segment"]) for p in listed] == [
            ("proactive-outage-spike-denver-1", "awaiting", "denver")
        ]
        assert listed[0]["draft"].startswith(
            "We know our site and app are down for many of you in Denver."
        )
        path = "/proactive/proactive-outage-spike-denver-1"
        refused = await api.post(f"{path}/reject", headers=sam, json={"reason": " "})
        assert refused.status_code == 422
        text = "The site is down in Denver: we're on it now."
        approved = await api.post(f"{path}/approve", headers=sam, json={"text": text})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "posted" and approved.json()["decided_by"] == "Sam"
        again = await api.post(f"{path}/approve", headers=sam, json={})
        assert again.status_code == 409
