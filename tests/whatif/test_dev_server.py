"""What-if on a dev server's inquiries: a continue-as-new chain is read as one inquiry, from the
server (``--since``) and from exported files alike, and gives the same report both ways."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

from careflow.audit.export import export_runs, find_runs, visibility_query
from careflow.engine.ruleset import load_ruleset
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.intake import first_message
from careflow.temporal.worker import build_worker
from careflow.whatif.fast import run_fast
from careflow.whatif.full import run_full
from careflow.whatif.sources import from_folder, from_server
from tests.harness import dev_server, example
from tests.whatif.recordings import rule_files
from workflows.inquiry import InquiryWorkflow
from workflows.messages import InquiryInput, ReplyRequest, ResolveRequest
from workflows.state import CustomerMessage

MESSAGES = 60


def test_a_continue_as_new_chain_is_one_inquiry_from_the_server_and_from_files(
    tmp_path: Path,
) -> None:
    old, new = rule_files(tmp_path)

    async def scenario() -> None:
        settings = Settings(
            rules=str(old),
            home=tmp_path / "home",
            temporal=TemporalSettings(task_queue=f"whatif-{uuid.uuid4().hex[:8]}"),
        )
        async with await dev_server() as env, build_worker(env.client, settings):
            client = env.client
            post = example("question", datetime.now(UTC)).model_copy(
                update={"text": "@shop free coupon codes here, and a question"}
            )
            handle = await client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=post, search_attributes=False, history_limit=120),
                id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                task_queue=settings.temporal.task_queue,
                start_signal="customer_message",
                start_signal_args=[first_message(post)],
            )
            reply = ReplyRequest(agent="ana", text="Looking.")
            await handle.execute_update(InquiryWorkflow.reply, reply)
            for n in range(MESSAGES):
                message = CustomerMessage(id=f"m-{n}", text=f"more {n}", at=datetime.now(UTC))
                await handle.signal(InquiryWorkflow.customer_message, message)
            latest = client.get_workflow_handle(handle.id)
            for _ in range(200):
                if (await latest.query(InquiryWorkflow.status)).runs > 1:
                    break
                await asyncio.sleep(0.05)
            done = ResolveRequest(agent="ana", code="spam")
            await latest.execute_update(InquiryWorkflow.resolve, done)

            since = datetime.now(UTC) - timedelta(hours=1)
            runs = await find_runs(client, visibility_query([], None, since))
            assert len(runs) >= 2  # the chain: one run per continue-as-new
            await export_runs(client, runs, tmp_path / "exported")
            served = await from_server(client, pydantic_data_converter, None, since)
        exported = await from_folder(tmp_path / "exported", pydantic_data_converter)

        for inquiries in (served, exported):
            assert [r.workflow_id for r in inquiries] == [handle.id]
            chain = inquiries[0]
            said = [a.payload["id"] for a in chain.acts if a.name == "customer_message"]
            assert said[1:] == [f"m-{n}" for n in range(MESSAGES)]
            assert [a.name for a in chain.acts if a.kind == "update"] == ["reply", "resolve"]
            assert chain.rules is not None and chain.rules.text == old.read_text()

        rules = load_ruleset(new)
        fast_served = run_fast(rules, None, served)
        assert fast_served.model_dump() == run_fast(rules, None, exported).model_dump()
        assert [(c.field, c.after, c.rule) for c in fast_served.changes] == [
            ("dropped", True, "drop-coupon-spam")
        ]
        full = await run_full(rules, None, exported)
        # The new rules drop the post: the agent's first reply is refused, the resolve skipped.
        assert [d.side for d in full.diverged] == ["after"]
        assert full.diverged[0].reason.startswith("reply at +")
        assert full.diverged[0].reason.endswith("the inquiry was already closed")

    asyncio.run(scenario())
