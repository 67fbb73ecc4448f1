"""The agents' queue at scale: ``GET /queue``, ``list_open`` and the console's queue page (``/``)
against one bare ``client.list_workflows`` call of the same visibility query on the same server.

A dev server on free ports (started and stopped here) holds 1,000 then 5,000 open inquiries,
started bare (search attributes and memo set at start, no worker: the queue reads nothing else),
so setup takes seconds. For each size: the whole queue, the queue filtered by category (a fifth
of it) and one page of 50, each timed as the median of several rounds, printed with its ratio to
the bare call. The console's page (50 rows nearest due first, found by visibility counts, and
a count per filter value) is timed with its counts fresh and with them kept (as an agent's
two-second poll finds them), and so is the supervisor view (a count per queue, step and agent,
the at-risk, high-reach and breach lists a page each); nobody answers the rows' status queries here (no worker), so it
times visibility's part: on a live system statuses are asked once per changed row and kept.
Machines are noisy: read the ratios, measured in the same run, not the times.
``--quick``: 200 and 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from bench.running import (
    leave,
    median_time,
    print_rows,
    run_in_scratch_home,
    sized_args,
    until_counted,
)
from bench.workflow_bench import start_dev_server
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.console import views
from careflow.settings import ApiTokenSettings, Settings
from careflow.temporal.inquiries import OPEN_QUERY, QueueFilters, list_open
from workflows import search
from workflows.messages import WORKFLOW_NAME

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("billing", "warranty", "late_delivery", "returns", "account")
TOKEN = "tok-bench"
SUPERVISOR = "tok-bench-supervisor"
AGENTS = ("Ana", "Bo", "Cy", "Di")
IN_FLIGHT = 64
PAGE = 50


async def start_bare(client: Client, first: int, count: int) -> None:
    """``count`` open inquiries from number ``first`` on, ``IN_FLIGHT`` starts at a time."""
    now = datetime.now(UTC)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(number: int) -> None:
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.CATEGORY, CATEGORIES[number % len(CATEGORIES)]),
            SearchAttributePair(search.QUEUE, "general"),
            SearchAttributePair(search.PRIORITY, "normal"),
            SearchAttributePair(search.STEP, "resolve"),
            SearchAttributePair(search.NEXT_DUE, now + timedelta(seconds=(number * 37) % 7200)),
            # For the supervisor view: a twentieth high reach, a quarter at risk already.
            SearchAttributePair(search.HIGH_REACH, number % 20 == 0),
            SearchAttributePair(
                search.AT_RISK, now + timedelta(seconds=(number * 37) % 7200 - 1800)
            ),
        ]
        if number % 3 == 0:
            pairs.append(SearchAttributePair(search.AGENT, AGENTS[number % len(AGENTS)]))
        async with gate:
            await client.start_workflow(
                WORKFLOW_NAME,
                id=f"inquiry-x-bench-{number}",
                task_queue="nobody-polls-this",
                search_attributes=TypedSearchAttributes(pairs),
                memo={"author": f"customer{number}", "text": "my order is late", "url": None},
            )

    await asyncio.gather(*(one(n) for n in range(first, first + count)))


async def measure(client: Client, http: httpx.AsyncClient, rounds: int) -> list[tuple[str, ...]]:
    """One table block per query: bare, list_open, GET /queue, with ratios to bare."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    filtered = QueueFilters(category="billing")

    async def bare(query: str, page_size: int | None = None) -> int:
        if page_size is None:
            return len([w async for w in client.list_workflows(query)])
        listing = client.list_workflows(query, page_size=page_size)
        await listing.fetch_next_page()
        return len(listing.current_page or [])

    async def get(path: str) -> int:
        answer = await http.get(path, headers=auth)
        answer.raise_for_status()
        return len(answer.json())

    cases: list[tuple[str, str, int | None, QueueFilters | None, str]] = [
        ("whole queue", OPEN_QUERY, None, None, "/queue"),
        ("category=billing", filtered.to_query(), None, filtered, "/queue?category=billing"),
        (f"one page of {PAGE}", OPEN_QUERY, PAGE, None, f"/queue?page_size={PAGE}"),
    ]
    lines: list[tuple[str, ...]] = []
    for name, query, size, filters, path in cases:

        async def listed(query: str = query, size: int | None = size) -> int:
            return await bare(query, size)

        async def opened_rows(
            wanted: QueueFilters | None = filters, size: int | None = size
        ) -> int:
            return len((await list_open(client, wanted, size)).rows)

        async def served_rows(path: str = path) -> int:
            return await get(path)

        base, rows = await median_time(rounds, listed)
        opened, open_rows = await median_time(rounds, opened_rows)
        served, got = await median_time(rounds, served_rows)
        assert rows == open_rows == got, (name, rows, open_rows, got)
        lines.append((name, str(rows), _ms(base), _ms(opened), _ratio(opened, base)))
        lines[-1] += (_ms(served), _ratio(served, base))
    return lines


async def measure_console(
    client: Client, http: httpx.AsyncClient, rounds: int
) -> list[tuple[str, ...]]:
    """The console's first page, whole and filtered, with counts fresh and kept, against the
    bare listing of the same query (and one bare page of 50, what a page could cost at best)."""
    auth = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/html"}
    views.ASK_AGAIN_AFTER = 3600.0  # no worker answers: ask each row once, in the warm-up
    filtered = QueueFilters(category="billing")
    lines: list[tuple[str, ...]] = []
    for name, query, path in [
        ("whole queue", OPEN_QUERY, "/"),
        ("category=billing", filtered.to_query(), "/?category=billing"),
    ]:

        async def listed(query: str = query) -> int:
            return len([w async for w in client.list_workflows(query)])

        async def one_page(query: str = query) -> int:
            listing = client.list_workflows(query, page_size=PAGE)
            await listing.fetch_next_page()
            return len(listing.current_page or [])

        async def console(path: str = path) -> int:
            answer = await http.get(path, headers=auth)
            answer.raise_for_status()
            return answer.text.count('class="row"')

        base, rows = await median_time(rounds, listed)
        page, _ = await median_time(rounds, one_page)
        for kept, seconds in (("counts fresh", 0.0), ("counts kept", 60.0)):
            views.COUNTS_KEPT_FOR = seconds
            served, shown = await median_time(rounds, console)
            assert shown == min(PAGE, rows), (name, shown, rows)
            times = (_ms(base), _ms(page), _ms(served))
            ratios = (_ratio(served, base), _ratio(served, page))
            lines.append((f"{name}, {kept}", str(rows), *times, *ratios))
    return lines


async def measure_supervisor(
    client: Client, http: httpx.AsyncClient, rounds: int
) -> tuple[str, ...]:
    """The supervisor view (every figure counted by visibility, the at-risk and high-reach
    lists a page of 50 each) against one bare listing of the open queue and one bare page."""
    auth = {"Authorization": f"Bearer {SUPERVISOR}", "Accept": "text/html"}

    async def listed() -> int:
        return len([w async for w in client.list_workflows(OPEN_QUERY)])

    async def one_page() -> int:
        listing = client.list_workflows(OPEN_QUERY, page_size=PAGE)
        await listing.fetch_next_page()
        return len(listing.current_page or [])

    async def supervisor() -> int:
        answer = await http.get("/supervisor", headers=auth)
        answer.raise_for_status()
        return answer.text.count('class="row"')

    base, rows = await median_time(rounds, listed)
    page, _ = await median_time(rounds, one_page)
    served, _ = await median_time(rounds, supervisor)
    times = (_ms(base), _ms(page), _ms(served))
    return ("/supervisor", str(rows), *times, _ratio(served, base), _ratio(served, page))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"


def print_table(
    size: int,
    lines: list[tuple[str, ...]],
    head: tuple[str, ...] = (
        "query",
        "rows",
        "bare list",
        "list_open",
        "ratio",
        "GET /queue",
        "ratio",
    ),
    what: str = "",
) -> None:
    title = f"{size} open inquiries{what} (median of the rounds; ratios to the bare call)"
    print_rows(title, head, lines)


async def bench(args: argparse.Namespace, home: Path) -> int:
    began = time.perf_counter()
    env = await start_dev_server(home)
    async with env:
        client = env.client
        settings = Settings(
            home=home,
            api=ApiTokenSettings(
                tokens=f"{TOKEN}=auditor:Bench,{SUPERVISOR}=supervisor:Sam,"
                + ",".join(f"tok-{a}=agent:{a}" for a in AGENTS)
            ),
        )

        async def factory() -> Client:
            return client

        app = create_app(settings, factory, load_ruleset(ROOT / "rules" / "default.yaml"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", timeout=120
        ) as http:
            started = 0
            print(f"dev server up; {os.cpu_count()} CPUs; {args.rounds} rounds per figure")
            for size in args.sizes:
                setup = time.perf_counter()
                await start_bare(client, started, size - started)
                started = size
                await until_counted(client, OPEN_QUERY, size)
                print(f"{size} open inquiries started in {time.perf_counter() - setup:.1f} s")
                print_table(size, await measure(client, http, args.rounds))
                print_table(
                    size,
                    await measure_console(client, http, args.rounds),
                    (
                        "console page 1",
                        "matching",
                        "bare list",
                        f"bare page of {PAGE}",
                        "console",
                        "ratio to list",
                        "ratio to page",
                    ),
                    ", the console's queue page",
                )
                print_table(
                    size,
                    [await measure_supervisor(client, http, args.rounds)],
                    (
                        "console page",
                        "open",
                        "bare list",
                        f"bare page of {PAGE}",
                        "console",
                        "ratio to list",
                        "ratio to page",
                    ),
                    ", the console's supervisor view",
                )
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return sized_args(argv, __doc__, (1000, 5000))


def main(argv: Sequence[str] | None = None) -> int:
    return run_in_scratch_home(bench, parse_args(argv), "queue")


if __name__ == "__main__":
    leave(main())
