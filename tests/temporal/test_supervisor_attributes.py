"""On a real (dev) server an inquiry started by the intake carries what the supervisor view
counts: ``CareHighReach`` from the author's followers, and ``CareAtRisk``, when its running clock
first puts it at risk (its warning or internal target), moving with the clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from careflow.engine.ruleset import load_ruleset
from careflow.temporal import inquiries
from careflow.temporal.floor import HIGH_REACH_QUERY, at_risk_query
from careflow.temporal.intake import intake, send_customer_message
from tests.harness import (
    CUSTOMERS,
    dev_worker,
    example,
    keep_history,
    round_the_clock_pack,
)
from tests.temporal.test_search_attributes import _attributes, _eventually
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest
from workflows.state import ClockView, CustomerMessage


def at_risk(clock: ClockView) -> datetime:
    return min(clock.internal_due, clock.warning_due or clock.internal_due)


def test_reach_and_risk_are_searchable_and_follow_the_clock(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "floor") as (env, settings):
            client = env.client
            now = await env.get_current_time()
            post = example("question", now, text="@acme my order is late")
            post = post.model_copy(
                update={"author": post.author.model_copy(update={"followers": 25_000})}
            )
            started = await intake(
                client, settings.temporal.task_queue, post, ruleset, customers=CUSTOMERS
            )
            wid = started.workflow_id or ""
            status = await inquiries.status(client, wid)
            acknowledge = status.clocks["acknowledge"]

            async def indexed() -> None:
                attributes = await _attributes(client, wid)
                assert attributes.get("CareHighReach") is True
                assert attributes.get("CareAtRisk") == at_risk(acknowledge)

            await _eventually(indexed)
            assert (await client.count_workflows(HIGH_REACH_QUERY)).count == 1
            assert (await client.count_workflows(at_risk_query(now))).count == 0
            later = at_risk(acknowledge) + timedelta(seconds=1)
            assert (await client.count_workflows(at_risk_query(later))).count == 1

            # Acknowledged: the acknowledge clock is met, and the resolve clock waits on the
            # customer (paused), so nothing puts the inquiry at risk any more.
            handle = client.get_workflow_handle_for(InquiryWorkflow.run, wid)
            request = AcknowledgeRequest(agent="Ana")
            await handle.execute_update(InquiryWorkflow.acknowledge, request)
            assert (await inquiries.status(client, wid)).clocks["resolve"].paused

            async def moved() -> None:
                assert "CareAtRisk" not in await _attributes(client, wid)
                assert (await client.count_workflows(at_risk_query(later))).count == 0

            await _eventually(moved)
            # The customer writes again: the resolve clock runs and a next-reply clock
            # starts; the earlier risk of the two counts.
            message = CustomerMessage(id="m2", text="any news?", at=now + timedelta(seconds=5))
            await send_customer_message(client, wid, message)
            clocks = (await inquiries.status(client, wid)).clocks
            assert not clocks["resolve"].paused
            soonest = min(at_risk(c) for c in clocks.values() if c.met_at is None)
            assert soonest < at_risk(clocks["resolve"])

            async def resumed() -> None:
                attributes = await _attributes(client, wid)
                assert attributes.get("CareAtRisk") == soonest

            await _eventually(resumed)
            await keep_history(handle, "loose-supervisor-at-risk")  # for test_replay.py

    asyncio.run(scenario())
