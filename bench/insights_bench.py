"""The trend watch's tick and ``careflow insights`` at scale, against one bare visibility count
of the same window on the same server.

A dev server on free ports (started and stopped here) holds 1,000 then 20,000 inquiries started
in the window, bare (search attributes and memo set at start as the intake sets them, no worker:
counting reads nothing else). For each size: the bare count of the window; a cold tick (a pair's
current window and its 7 baseline days: 8 counts per pair), a warm tick (1 count per pair, once a
week of counts is kept) for 2 pairs; the insights report without phrases (counts only) and with
them (it reads the memo of the untagged inquiries, at most 5,000 per period). Each figure is the
median of several rounds, printed with its ratio to the bare count and its visibility calls.
Machines are noisy: read the ratios, measured in the same run, not the times. ``--quick``: 200
and 1,000.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from careflow.engine.trend_model import TrendRule
from careflow.temporal.insights import insights, period_query
from careflow.temporal.trend_activities import TrendActivities
from workflows import search
from workflows import trend_watch_logic as logic
from workflows.messages import WORKFLOW_NAME
from workflows.trend_types import CountRequest, WatcherState

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = ("general", "colorado")
TOPICS = ("outage", "refund", "", "", "checkout")  # "": untagged
TEXTS = (
    "the app is down again",
    "I want a refund for my boots",
    "the app keeps crashing at login",
    "where is my parcel",
    "checkout says payment failed",
)
IN_FLIGHT = 64
WINDOW = timedelta(hours=1)


async def start_bare(client: Client, first: int, count: int) -> None:
    """``count`` inquiries from number ``first`` on, as the intake starts them."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(number: int) -> None:
        topic = TOPICS[number % len(TOPICS)]
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.CATEGORY, "general"),
            SearchAttributePair(search.SEGMENT, SEGMENTS[number % len(SEGMENTS)]),
        ]
        if topic:
            pairs.append(SearchAttributePair(search.TOPICS, search.topics_text([topic])))
        async with gate:
            await client.start_workflow(
                WORKFLOW_NAME,
                id=f"inquiry-x-bench-{number}",
                task_queue="nobody-polls-this",
                search_attributes=TypedSearchAttributes(pairs),
                memo={"author": f"c{number}", "text": TEXTS[number % len(TEXTS)]},
            )

    await asyncio.gather(*(one(n) for n in range(first, first + count)))


async def measure(client: Client, rounds: int, size: int) -> list[tuple[str, ...]]:
    ruleset = load_ruleset(ROOT / "rules" / "default.yaml")
    trend = TrendRule.model_validate(
        {
            "name": "outage-spike",
            "topic": "outage",
            "min_count": 15,
            "window": "1h",
            "factor": 3,
            "template": "t",
            "approvers": "supervisors",
        }
    )
    pairs = [logic.Pair(trend, segment, int(WINDOW.total_seconds())) for segment in SEGMENTS]
    now = datetime.now(UTC) + timedelta(seconds=1)
    end = logic.aligned(now, 300)
    activities = TrendActivities(client, "nobody-polls-this")
    cold = logic.wanted(WatcherState(), pairs, end, now)
    warm_state = WatcherState()
    logic.record(warm_state, cold, [0] * len(cold), 300)
    warm = logic.wanted(warm_state, pairs, end, now)

    async def bare() -> int:
        counted = (await client.count_workflows(period_query(now - WINDOW, now))).count
        assert counted == size, (counted, size)
        return 1

    async def tick(windows: list[Any]) -> int:
        counts = (await activities.count_trends(CountRequest(windows=windows))).counts
        assert sum(counts[:1]) > 0 or size == 0
        return len(windows)

    async def report(phrases: bool) -> int:
        found = await insights(client, ruleset, now, WINDOW, "segment", phrases=phrases)
        assert found.total == size, (found.total, size)
        return found.visibility_calls

    cases: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        ("bare count of the window", bare),
        ("tick, cold (8 counts/pair)", lambda: tick(cold)),
        ("tick, warm (1 count/pair)", lambda: tick(warm)),
        ("insights, counts only", lambda: report(False)),
        ("insights with phrases", lambda: report(True)),
    ]
    lines: list[tuple[str, ...]] = []
    base = 0.0
    for name, call in cases:
        took, calls = await median_time(rounds, call)
        base = base or took
        lines.append((name, str(calls), f"{took * 1000:.0f} ms", f"{took / base:.2f}x"))
    return lines


def print_table(size: int, lines: list[tuple[str, ...]]) -> None:
    head = ("what", "visibility calls", "median", "ratio to bare")
    print_rows(f"{size} inquiries in the window, 2 pairs (median of the rounds)", head, lines)


async def bench(args: argparse.Namespace, home: Path) -> int:
    began = time.perf_counter()
    env = await start_dev_server(home)
    async with env:
        client = env.client
        print(f"dev server up; {os.cpu_count()} CPUs; {args.rounds} rounds per figure")
        started = 0
        everything = f"WorkflowType='{WORKFLOW_NAME}'"
        for size in args.sizes:
            setup = time.perf_counter()
            await start_bare(client, started, size - started)
            started = size
            await until_counted(client, everything, size)
            print(f"{size} inquiries started in {time.perf_counter() - setup:.1f} s")
            print_table(size, await measure(client, args.rounds, size))
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return sized_args(argv, __doc__, (1000, 20000))


def main(argv: Sequence[str] | None = None) -> int:
    return run_in_scratch_home(bench, parse_args(argv), "insights")


if __name__ == "__main__":
    leave(main())
