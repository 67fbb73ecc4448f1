"""On a real (dev) server an inquiry carries its segment and topics as search attributes from
intake on, and a later customer message adds the topics it matches: ``careflow insights``
counts them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from careflow.engine.ruleset import load_ruleset
from careflow.temporal import inquiries
from careflow.temporal.intake import intake, send_customer_message
from tests.harness import (
    CUSTOMERS,
    dev_worker,
    example,
    keep_history,
    round_the_clock_pack,
)
from tests.temporal.test_search_attributes import _attributes, _eventually
from workflows.state import CustomerMessage

SEGMENT_RULE = """
  - name: denver-segment
    on: received
    when: {text: {contains: denver}}
    do: [{set: {segment: denver}}]
"""


def test_segment_and_topics_are_searchable_and_follow_the_customer(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path, SEGMENT_RULE)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "topics") as (env, settings):
            client = env.client
            now = await env.get_current_time()
            post = example("question", now, text="@acme the site is down in Denver")
            started = await intake(
                client, settings.temporal.task_queue, post, ruleset, customers=CUSTOMERS
            )
            assert started.workflow_id is not None
            await inquiries.status(client, started.workflow_id)  # rules loaded

            async def tagged() -> None:
                attributes = await _attributes(client, started.workflow_id or "")
                assert attributes.get("CareSegment") == "denver"
                assert attributes.get("CareTopics") == "outage"

            await _eventually(tagged)
            await send_customer_message(
                client,
                started.workflow_id,
                CustomerMessage(
                    id="m2", text="and now I want a refund", at=now + timedelta(seconds=5)
                ),
            )

            async def retagged() -> None:
                attributes = await _attributes(client, started.workflow_id or "")
                assert attributes.get("CareTopics") == "outage refund"

            await _eventually(retagged)

            async def counted() -> None:
                query = "CareTopics = 'refund' AND CareSegment = 'denver'"
                count = await client.count_workflows(query)
                assert count.count == 1

            await _eventually(counted)
            handle = client.get_workflow_handle(started.workflow_id)
            await keep_history(handle, "insights-topics")  # replayed by test_replay.py

    asyncio.run(scenario())
