"""``careflow insights`` on a real (dev) server: topics per segment against the period before,
counted by visibility, and the phrase rising in untagged inquiries."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from temporalio.client import Client

from careflow.engine.ruleset import Ruleset, load_ruleset
from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, Settings
from careflow.temporal.insights import InsightsReport, insights
from careflow.temporal.intake import intake
from tests.harness import CUSTOMERS, dev_worker, example, round_the_clock_pack
from tests.temporal.test_topic_attributes import SEGMENT_RULE

BEFORE = [
    "@acme the site is down in Denver",
    "@acme I want a refund for my boots",
    "@acme do you have the trail boots in size 44?",
    "@acme are the trail boots waterproof?",
]
AFTER = [
    "@acme site down in Denver again",
    "@acme Denver here: the site is down",
    "@acme outage in Denver since noon",
    "@acme the site is down for me too",
    "@acme I want a refund",
    "@acme the app keeps crashing at login",
    "@acme why does the app keep crashing? app keeps crashing all day",
    "@acme app keeps crashing. help!",
]


async def _post(client: Client, queue: str, ruleset: Ruleset, texts: list[str], tag: str) -> None:
    for n, text in enumerate(texts):
        at = datetime.now().astimezone()
        post = example("question", at, id=f"{tag}{n}", conversation_id=f"{tag}{n}", text=text)
        await intake(client, queue, post, ruleset, customers=CUSTOMERS)


def test_topics_per_segment_change_and_emerging_phrases(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path, SEGMENT_RULE)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "insights") as (env, settings):
            client = env.client
            queue = settings.temporal.task_queue
            await _post(client, queue, ruleset, BEFORE, "before-")
            await asyncio.sleep(1.5)
            split = await env.get_current_time()
            await asyncio.sleep(1.5)
            await _post(client, queue, ruleset, AFTER, "after-")
            hour = timedelta(hours=1)

            async def report() -> InsightsReport:
                for _ in range(50):
                    found = await insights(client, ruleset, split + hour, hour)
                    if found.total == len(AFTER) and found.previous_total == len(BEFORE):
                        return found
                    await asyncio.sleep(0.2)
                raise AssertionError(f"visibility never caught up: {found}")

            found = await report()
            topics = {t.topic: t for t in found.topics}
            assert (topics["outage"].count, topics["outage"].previous) == (4, 1)
            assert topics["outage"].change == 3.0
            assert (topics["refund"].count, topics["refund"].previous) == (1, 1)
            assert (topics["damaged"].count, topics["damaged"].previous) == (0, 0)
            assert len(topics["outage"].examples) == 3
            assert all(e.startswith("inquiry-x-after-") for e in topics["outage"].examples)
            cells = {(c.topic, c.group): (c.count, c.previous) for c in found.cells}
            assert cells[("outage", "denver")] == (3, 1)
            assert cells[("outage", "general")] == (1, 0)
            assert cells[("(all)", "denver")] == (3, 1)
            assert ("damaged", "general") not in cells
            (phrase, *_) = found.phrases
            assert phrase.phrase == "app keeps crashing"
            assert (phrase.count, phrase.baseline) == (3, 0)
            assert found.texts_read == 3 + 2  # only the untagged posts' starts

            await _console_page(client, settings, ruleset)

    asyncio.run(scenario())


async def _console_page(client: Client, settings: Settings, ruleset: Ruleset) -> None:
    """Supervisors see the report as a console page; agents may not; a bad period is a 422."""
    tokens = ApiTokenSettings(tokens="tok-sam=supervisor:Sam,tok-ana=agent:Ana")

    async def factory() -> Client:
        return client

    app = create_app(dataclasses.replace(settings, api=tokens), factory, ruleset)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as browser:

        async def get(path: str, token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
            return await browser.get(path, headers=headers)

        page = await get("/supervisor/insights?since=1d&by=segment", "tok-sam")
        assert page.status_code == 200
        assert "<td>outage</td><td>5</td>" in page.text  # every post is in the last day
        assert "<th>denver</th>" in page.text
        assert "<td>app keeps crashing</td>" in page.text  # new: no baseline at all
        assert "back to the console" in page.text
        assert (await get("/supervisor/insights", "tok-ana")).status_code == 403
        assert (await get("/supervisor/insights?since=soon", "tok-sam")).status_code == 422
        assert (await get("/supervisor/insights?by=planet", "tok-sam")).status_code == 422
