"""The console's queue at scale, without a browser: one page of 50 nearest due first, links to
the next and previous pages, filters that go into visibility, and counts per filter value over
the whole open queue. Inquiries are started bare (search attributes and memo, no worker): rows
show what visibility has, after the page's short wait for statuses nobody answers."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def console(client: Client, home: Path, tokens: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the console (the default pack, these API tokens) on ``client``'s server."""

    async def factory() -> Client:
        return client

    settings = Settings(rules=str(DEFAULT_PACK), home=home, api=ApiTokenSettings(tokens=tokens))
    app = create_app(settings, factory, load_ruleset(DEFAULT_PACK))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test", timeout=60
    ) as http:
        yield http


def link(page: str, name: str) -> str:
    found = re.search(rf'<a href="(/\?[^"]*)"[^>]*>{name}', page)
    assert found, f"no {name!r} link"
    return html.unescape(found.group(1))


def test_the_queue_pages_nearest_due_first_with_counts_from_visibility(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            await start_bare(env.client, datetime.now(UTC))
            async with console(env.client, tmp_path, "tok-ana=agent:Ana") as http:
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


FLOOR = 130  # more open inquiries than a page (50), and more at risk too
SAM = {"Authorization": "Bearer tok-sam", "Accept": "text/html"}


def floor_of(number: int) -> dict[str, Any]:
    """Inquiry ``number``'s place on the floor: queue (``legacy`` is one the rule file no longer
    names), step, assignee (Zed has no token), reach, risk and breach."""
    return {
        "queue": "legacy" if number % 13 == 0 else "billing" if number % 3 == 0 else "general",
        "step": "acknowledge" if number % 2 == 0 else "resolve",
        "agent": "Ana" if number % 4 == 0 else "Zed" if number % 10 == 1 else None,
        "high_reach": number % 5 == 0,
        "at_risk": number % 3 != 1,
        "breached": number % 7 == 0,
    }


async def start_floor(client: Client, now: datetime) -> None:
    """``FLOOR`` inquiries started bare, as the intake and the workflow would index them."""

    async def one(number: int) -> None:
        place = floor_of(number)
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.QUEUE, place["queue"]),
            SearchAttributePair(search.STEP, place["step"]),
            SearchAttributePair(search.HIGH_REACH, place["high_reach"]),
            SearchAttributePair(search.NEXT_DUE, now + timedelta(minutes=number)),
            # At risk since a minute ago, or from an hour on.
            SearchAttributePair(
                search.AT_RISK, now + timedelta(minutes=-1 if place["at_risk"] else 60)
            ),
        ]
        if place["agent"]:
            pairs.append(SearchAttributePair(search.AGENT, place["agent"]))
        if place["breached"]:
            pairs.append(SearchAttributePair(search.BREACHED, ["acknowledge"]))
        await client.start_workflow(
            WORKFLOW_NAME,
            id=f"inquiry-x-floor-{number:03d}",
            task_queue="nobody-polls-this",
            search_attributes=TypedSearchAttributes(pairs),
            memo={"author": f"floor{number:03d}", "text": "where is my order"},
        )

    await asyncio.gather(*(one(n) for n in range(FLOOR)))
    for _ in range(100):
        if (await client.count_workflows(OPEN_QUERY)).count >= FLOOR:
            return
        await asyncio.sleep(0.1)


def cells(page: str, table: str) -> list[list[str]]:
    """A table's rows of cells, as text."""
    found = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert found, f"no table {table!r}"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [[html.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r, re.S)] for r in rows]


def test_the_supervisor_view_counts_the_whole_floor_from_visibility(tmp_path: Path) -> None:
    places = [floor_of(n) for n in range(FLOOR)]

    def expected(**match: Any) -> int:
        return sum(all(p[k] == v for k, v in match.items()) for p in places)

    async def scenario() -> None:
        async with await dev_server() as env:
            await start_floor(env.client, datetime.now(UTC))
            async with console(
                env.client, tmp_path, "tok-ana=agent:Ana,tok-sam=supervisor:Sam"
            ) as http:
                page = (await http.get("/supervisor", headers=SAM)).text
        assert f'<span id="open-count">{FLOOR} open</span>' in page
        # Open work by queue and step: every inquiry in one cell, the unnamed queue as (other).
        table = cells(page, "queue-step")
        assert table[0] == ["queue", "acknowledge", "resolve"]
        for row in table[1:]:
            queue = "legacy" if row[0] == "(other)" else row[0]
            for step, cell in zip(("acknowledge", "resolve"), row[1:], strict=True):
                assert cell == str(expected(queue=queue, step=step) or ""), (queue, step)
        assert sorted(row[0] for row in table[1:]) == ["(other)", "billing", "general"]
        # Each agent's load: Sam has none and is left out; Zed has no token: (other).
        assert cells(page, "load") == [
            ["Ana", str(expected(agent="Ana"))],
            ["(other)", str(expected(agent="Zed"))],
            ["(unassigned)", str(expected(agent=None))],
        ]
        at_risk = sum(p["at_risk"] or p["breached"] for p in places)
        assert at_risk > 50
        assert f'<p id="at-risk-count">{at_risk} open, the 50 nearest due shown.</p>' in page
        reach = expected(high_reach=True)
        assert f'<p id="high-reach-count">{reach} open.</p>' in page
        breaches = expected(breached=True)
        assert f"{breaches} inquiries started today missed a published window." in page
        # The lists show the nearest due first.
        risky = re.findall(r'class="open" href="[^"]+">@(floor\d+)</a>', page)
        first = [n for n in range(FLOOR) if places[n]["at_risk"] or places[n]["breached"]]
        assert risky[:50] == [f"floor{n:03d}" for n in first[:50]]

    asyncio.run(scenario())
