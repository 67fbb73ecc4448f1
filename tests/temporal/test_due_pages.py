"""The queue nearest due first across pages (careflow.temporal.due_pages): walking the pages
forward and back gives every open inquiry once, in due order (overdue first, undated last,
ties by id), and a page lists only about a page's worth of inquiries, not the whole queue.
Inquiries are started bare (search attributes and memo at start, no worker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from careflow.temporal.due_pages import Mark, due_page
from careflow.temporal.inquiries import OPEN_QUERY, BadQueueRequest, QueueFilters
from tests.harness import dev_server
from workflows import search
from workflows.messages import WORKFLOW_NAME

COUNT = 61


def due_for(number: int, now: datetime) -> datetime | None:
    """Overdue ones, a clump due at one instant, spread-out ones, and every ninth undated."""
    if number % 9 == 0:
        return None
    if number % 10 == 3:
        return now + timedelta(minutes=5)  # a tie: several due at the same instant
    return now + timedelta(seconds=(number * 397) % 9000 - 1800)


async def start_bare(client: Client, now: datetime) -> dict[str, datetime | None]:
    """The inquiries, by id, with their due times."""
    dues: dict[str, datetime | None] = {}

    async def one(number: int) -> None:
        due = due_for(number, now)
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.CATEGORY, "billing" if number % 2 else "warranty"),
        ]
        if due is not None:
            pairs.append(SearchAttributePair(search.NEXT_DUE, due))
        wid = f"inquiry-x-due-{number:03d}"
        dues[wid] = due
        await client.start_workflow(
            WORKFLOW_NAME,
            id=wid,
            task_queue="nobody-polls-this",
            search_attributes=TypedSearchAttributes(pairs),
            memo={"author": f"customer{number}", "text": "hello"},
        )

    await asyncio.gather(*(one(n) for n in range(COUNT)))
    for _ in range(100):
        if (await client.count_workflows(OPEN_QUERY)).count >= COUNT:
            break
        await asyncio.sleep(0.1)
    return dues


def listed_rows(client: Client) -> list[int]:
    """Counts, per list_workflows call, the rows the server sent (wrapping the client)."""
    seen: list[int] = []
    original = client.list_workflows

    def spy(query: str | None = None, **kwargs: Any) -> Any:
        iterator = original(query, **kwargs)
        seen.append(0)

        async def each() -> Any:
            async for execution in iterator:
                seen[-1] += 1
                yield execution

        return each()

    client.list_workflows = spy  # type: ignore[method-assign]
    return seen


def test_pages_walk_the_whole_queue_in_due_order_both_ways() -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            now = datetime.now(UTC)
            dues = await start_bare(client, now)
            undated = sorted(wid for wid, due in dues.items() if due is None)
            dated = sorted((due, wid) for wid, due in dues.items() if due is not None)
            expected = [wid for _, wid in dated]
            # Undated come last, the oldest started first: their start order is not ours to
            # know exactly, so compare them as a set.
            listed = listed_rows(client)

            page = await due_page(client, size=7)
            pages = [page]
            while page.next_mark is not None:
                page = await due_page(client, size=7, after=Mark.decode(page.next_mark))
                pages.append(page)
            walked = [row.id for p in pages for row in p.rows]
            assert len(walked) == COUNT == len(set(walked))
            assert walked[: len(expected)] == expected
            assert sorted(walked[len(expected) :]) == undated
            assert pages[0].prev_mark is None and pages[0].matching == COUNT
            assert all(len(p.rows) == 7 for p in pages[:-1])
            # Every page listed about a page's worth, never the whole queue.
            assert max(listed) <= 3 * 7, listed

            back: list[str] = []
            page = pages[-1]
            while page.prev_mark is not None:
                page = await due_page(client, size=7, before=Mark.decode(page.prev_mark))
                back = [row.id for row in page.rows] + back
            assert back + [row.id for row in pages[-1].rows] == walked

            # Filters narrow the pages the same way.
            billing = QueueFilters(category="billing")
            first = await due_page(client, billing, size=5)
            assert first.matching == COUNT // 2
            assert [r.id for r in first.rows] == [wid for wid in walked if int(wid[-3:]) % 2 == 1][
                :5
            ]

    asyncio.run(scenario())


def test_a_mark_the_queue_did_not_give_is_a_sentence() -> None:
    for bad in ("nonsense", "bm90IGpzb24", Mark(False, datetime.now(UTC), "x").encode()[:-4]):
        with pytest.raises(BadQueueRequest, match="page link is not one the queue gave"):
            Mark.decode(bad)
    mark = Mark(True, datetime(2026, 1, 2, tzinfo=UTC), "inquiry-x-1")
    assert Mark.decode(mark.encode()) == mark
