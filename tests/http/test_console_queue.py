"""The console's queue at scale, without a browser: one page of 50 nearest due first, links to
the next and previous pages, filters that go into visibility, and counts per filter value over
the whole open queue. Inquiries are started bare (search attributes and memo, no worker): rows
show what visibility has, after the page's short wait for statuses nobody answers."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, Settings
from careflow.temporal.inquiries import OPEN_QUERY
from tests.conftest import DEFAULT_PACK
from tests.harness import dev_server
from workflows import search
from workflows.messages import WORKFLOW_NAME

COUNT = 120
ANA = {"Authorization": "Bearer tok-ana", "Accept": "text/html"}


async def start_bare(client: Client, now: datetime) -> None:
    """``COUNT`` inquiries due one minute apart, in reverse of their start order; every third
    is billing, every fourth Ana's."""

    async def one(number: int) -> None:
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.CATEGORY, "billing" if number % 3 == 0 else "general"),
            SearchAttributePair(search.QUEUE, "general"),
            SearchAttributePair(search.PRIORITY, "normal"),
            SearchAttributePair(search.NEXT_DUE, now + timedelta(minutes=COUNT - number)),
        ]
        if number % 4 == 0:
            pairs.append(SearchAttributePair(search.AGENT, "Ana"))
        await client.start_workflow(
            WORKFLOW_NAME,
            id=f"inquiry-x-queue-{number:03d}",
            task_queue="nobody-polls-this",
            search_attributes=TypedSearchAttributes(pairs),
            memo={"author": f"customer{number:03d}", "text": "where is my order"},
        )

    await asyncio.gather(*(one(n) for n in range(COUNT)))
    for _ in range(100):
        if (await client.count_workflows(OPEN_QUERY)).count >= COUNT:
            return
        await asyncio.sleep(0.1)


def handles(page: str) -> list[str]:
    return re.findall(r'class="open" href="[^"]+">@(customer\d+)</a>', page)


def link(page: str, name: str) -> str:
    found = re.search(rf'<a href="(/\?[^"]*)"[^>]*>{name}', page)
    assert found, f"no {name!r} link"
    return html.unescape(found.group(1))


def test_the_queue_pages_nearest_due_first_with_counts_from_visibility(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            await start_bare(env.client, datetime.now(UTC))
            settings = Settings(
                rules=str(DEFAULT_PACK),
                home=tmp_path,
                api=ApiTokenSettings(tokens="tok-ana=agent:Ana"),
            )

            async def factory() -> Client:
                return env.client

            app = create_app(settings, factory, load_ruleset(DEFAULT_PACK))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://console.test", timeout=60
            ) as http:
                first = (await http.get("/", headers=ANA)).text
                # Nearest due first: the last started is due first, across the whole queue.
                assert handles(first) == [f"customer{n:03d}" for n in range(119, 69, -1)]
                assert "50 shown of 120 open" in first
                assert "Previous page" not in first
                # Counts over the whole queue, from visibility.
                assert "billing (40)" in first and "general (80)" in first
                assert "mine (30)" in first and "unassigned (90)" in first

                second = (await http.get(link(first, "Next page"), headers=ANA)).text
                assert handles(second) == [f"customer{n:03d}" for n in range(69, 19, -1)]
                back = (await http.get(link(second, "← Previous page"), headers=ANA)).text
                assert handles(back) == handles(first)

                # Filters go into the query and combine; paging keeps them.
                mine = (await http.get("/?category=billing&mine=1", headers=ANA)).text
                expected = [f"customer{n:03d}" for n in range(119, -1, -1) if n % 12 == 0]
                assert handles(mine) == expected
                assert "10 shown of 10 matching (120 open)" in mine

                # Mistakes are a page saying what, never a traceback.
                both = await http.get("/?mine=1&unassigned=1", headers=ANA)
                assert both.status_code == 422 and "exclude each other" in both.text
                bad = await http.get("/?after=forged", headers=ANA)
                assert bad.status_code == 422 and "page link is not one the queue gave" in bad.text

    asyncio.run(scenario())
