"""The queue from visibility: filters go into the query (escaped), and pages cover every open
inquiry exactly once. Inquiries are started bare (search attributes and memo at start, no
worker): the queue reads only those."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from careflow.temporal.inquiries import (
    OPEN_QUERY,
    BadQueueRequest,
    QueueFilters,
    decode_token,
    encode_token,
    list_open,
)
from tests.harness import dev_server
from workflows import search
from workflows.messages import WORKFLOW_NAME

CATEGORIES = ("billing", "warranty", "bil'ling")


async def start_bare(client: Client, count: int) -> list[str]:
    """``count`` open inquiries nobody works on, spread over categories and agents."""
    now, ids = datetime.now(UTC), []
    for number in range(count):
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(search.CHANNEL, "x"),
            SearchAttributePair(search.CATEGORY, CATEGORIES[number % 3]),
            SearchAttributePair(search.QUEUE, "general"),
            SearchAttributePair(search.PRIORITY, "normal"),
            SearchAttributePair(search.STEP, "resolve"),
            SearchAttributePair(search.NEXT_DUE, now + timedelta(minutes=(number * 7) % 30)),
        ]
        if number % 2:
            pairs.append(SearchAttributePair(search.AGENT, "Ana"))
        wid = f"inquiry-x-{1860000000000100000 + number}"
        await client.start_workflow(
            WORKFLOW_NAME,
            id=wid,
            task_queue="nobody-polls-this",
            search_attributes=TypedSearchAttributes(pairs),
            memo={"author": f"customer{number}", "text": "hello"},
        )
        ids.append(wid)
    return ids


class Spy:
    """Wraps a client's list_workflows: the queries asked and how many rows came back."""

    def __init__(self, client: Client) -> None:
        self.client, self.queries, self.listed = client, list[str](), 0
        self._real = client.list_workflows

    def __call__(self, query: str | None = None, **kwargs: Any) -> Any:
        self.queries.append(query or "")
        iterator = self._real(query, **kwargs)
        spy = self

        class Counted:
            def __aiter__(self) -> AsyncIterator[Any]:
                return self._each()

            async def _each(self) -> AsyncIterator[Any]:
                async for execution in iterator:
                    spy.listed += 1
                    yield execution

            async def fetch_next_page(self) -> None:
                await iterator.fetch_next_page()
                spy.listed += len(iterator.current_page or [])

            def __getattr__(self, name: str) -> Any:
                return getattr(iterator, name)

        return Counted()


def test_filters_reach_the_visibility_query_escaped_and_pages_cover_everything_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            ids = await start_bare(client, 25)
            for _ in range(50):  # visibility trails the starts a little
                if len((await list_open(client)).rows) == 25:
                    break
                await asyncio.sleep(0.2)
            spy = Spy(client)
            monkeypatch.setattr(client, "list_workflows", spy)

            nothing = await list_open(client, QueueFilters(category="no-such-category"))
            assert nothing.rows == [] and spy.listed == 0  # the server filtered, not careflow
            assert "CareCategory='no-such-category'" in spy.queries[-1]

            quoted = await list_open(client, QueueFilters(category="bil'ling"))
            assert len(quoted.rows) == 8 and {r.category for r in quoted.rows} == {"bil'ling"}
            assert spy.queries[-1].endswith("CareCategory='bil\\'ling'")
            injected = await list_open(client, QueueFilters(category="billing' OR 'a'='a"))
            assert injected.rows == []

            mine = await list_open(client, QueueFilters(agent="Ana", category="billing"))
            assert {(r.agent, r.category) for r in mine.rows} == {("Ana", "billing")}
            free = await list_open(client, QueueFilters(unassigned=True))
            assert len(free.rows) == 13 and all(r.agent is None for r in free.rows)
            assert spy.queries[-1] == f"{OPEN_QUERY} AND CareAgent IS NULL"

            seen: list[str] = []
            token: bytes | None = None
            pages = 0
            while True:
                page = await list_open(client, None, 7, token)
                pages += 1
                assert len(page.rows) <= 7
                dues = [r.next_due for r in page.rows if r.next_due is not None]
                assert dues == sorted(dues)  # nearest due first within a page
                seen += [r.id for r in page.rows]
                if page.next_page_token is None:
                    break
                token = decode_token(encode_token(page.next_page_token) or "")
            assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
            assert pages >= 4

            whole = await list_open(client)  # no page size: everything, ordered
            assert whole.next_page_token is None and len(whole.rows) == 25
            dues = [r.next_due for r in whole.rows if r.next_due is not None]
            assert len(dues) == 25 and dues == sorted(dues)

    asyncio.run(scenario())


def test_bad_filters_and_tokens_are_sentences() -> None:
    with pytest.raises(BadQueueRequest, match="exclude each other"):
        QueueFilters(agent="Ana", unassigned=True)
    with pytest.raises(BadQueueRequest, match="not empty"):
        QueueFilters(queue=" ")
    with pytest.raises(BadQueueRequest, match="not one the queue gave"):
        decode_token("not a token!")
    with pytest.raises(BadQueueRequest, match="not one the queue gave"):
        decode_token(encode_token(b"garbage") or "")
