"""Under a backlog, urgent and high-reach inquiries go first: the intake starts them with a
higher Temporal task priority (read back from the server), ordinary ones with the default."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client

from careflow.engine.post import Author
from careflow.engine.ruleset import load_ruleset, ruleset_from_text
from careflow.temporal.intake import (
    HIGH_REACH_FOLLOWERS,
    intake,
    priority_key,
    triage_off_loop,
)
from tests.conftest import DEFAULT_PACK, MINIMAL
from tests.harness import CUSTOMERS, dev_server, example


def test_priority_keys_follow_the_rules_and_reach() -> None:
    assert priority_key("urgent", 0) == 1
    assert priority_key("high", 0) == 2
    assert priority_key("normal", 0) == 3
    assert priority_key("low", 0) == 4
    assert priority_key("normal", HIGH_REACH_FOLLOWERS) == 2  # reach alone makes it "high"
    assert priority_key("low", HIGH_REACH_FOLLOWERS) == 2
    assert priority_key("urgent", HIGH_REACH_FOLLOWERS) == 1  # never lowered


async def _priority_of(client: Client, workflow_id: str) -> int:
    """The priority key the server holds for the workflow (0: unset, the default 3)."""
    described = await client.get_workflow_handle(workflow_id).describe()
    return described.raw_description.workflow_execution_info.priority.priority_key


def test_urgent_and_high_reach_inquiries_start_with_a_higher_task_priority(tmp_path: Path) -> None:
    pack = load_ruleset(DEFAULT_PACK)
    no_reach_rule = ruleset_from_text(MINIMAL, "minimal.yaml")
    queue = "priority-test"  # no worker: only what the server recorded at start matters

    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            now = await env.get_current_time()
            high_reach = example("high-reach", now)  # the pack's high-reach rule: urgent
            verified = example("verified", now)  # verified-author: high
            ordinary = example("question", now)
            started = {
                name: await intake(client, queue, post, pack, customers=CUSTOMERS)
                for name, post in (
                    ("high_reach", high_reach),
                    ("verified", verified),
                    ("ordinary", ordinary),
                )
            }
            keys = {
                name: await _priority_of(client, r.workflow_id or "") for name, r in started.items()
            }
            assert keys == {"high_reach": 1, "verified": 2, "ordinary": 0}

            # Reach counts even when the rule file has no rule for it.
            famous = example(
                "question",
                now,
                id="1860000000000077777",
                conversation_id="1860000000000077777",
                author=Author(id="77", handle="famous", name="Famous", followers=250_000),
            )
            result = await intake(client, queue, famous, no_reach_rule, customers=CUSTOMERS)
            assert await _priority_of(client, result.workflow_id or "") == 2

            # The webhook intake filters first and starts later: the same priority.
            later = high_reach.model_copy(
                update={"id": "1860000000000088888", "conversation_id": "1860000000000088888"}
            )
            verdict = await triage_off_loop(later, pack)
            assert verdict.dropped is None
            result = await intake(client, queue, later, pack, triaged=verdict, customers=CUSTOMERS)
            assert await _priority_of(client, result.workflow_id or "") == 1

    asyncio.run(scenario())
