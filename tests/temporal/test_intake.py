"""Intake on a real (dev) server: signal-with-start per conversation, and redeliveries after the
inquiry closed do not open it again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus

from careflow.engine.ruleset import load_ruleset
from careflow.temporal import inquiries
from careflow.temporal.intake import intake
from tests.harness import CUSTOMERS, dev_worker, example, quick_follow_up_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ResolveRequest


def test_a_redelivery_after_close_is_not_a_new_inquiry_but_a_new_post_is(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "intake-test") as (env, settings):
            client = env.client
            post = example("question", await env.get_current_time())
            first = await intake(
                client, settings.temporal.task_queue, post, ruleset, customers=CUSTOMERS
            )
            assert first.workflow_id == f"inquiry-x-{post.conversation_id}"
            handle = client.get_workflow_handle_for(InquiryWorkflow.run, first.workflow_id)
            await inquiries.status(client, first.workflow_id)  # its rules are loaded
            again = await intake(
                client, settings.temporal.task_queue, post, ruleset, customers=CUSTOMERS
            )  # while it runs: the open inquiry says it has the post
            assert again.workflow_id == first.workflow_id and again.duplicate
            later = post.model_copy(update={"id": "1860000000000055555"})
            reply = await intake(
                client, settings.temporal.task_queue, later, ruleset, customers=CUSTOMERS
            )
            assert reply.workflow_id == first.workflow_id and not reply.duplicate
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            result = await handle.result()  # the follow-up goes unanswered: closed
            assert result.status.duplicate_deliveries == 1
            closed_run = (await handle.describe()).run_id

            late = await intake(
                client, settings.temporal.task_queue, post, ruleset, customers=CUSTOMERS
            )  # a webhook retry, late
            assert late.duplicate
            latest = await client.get_workflow_handle(first.workflow_id).describe()
            assert latest.run_id == closed_run
            assert latest.status == WorkflowExecutionStatus.COMPLETED

            follow_on = post.model_copy(update={"id": "1860000000000099999"})
            new = await intake(
                client, settings.temporal.task_queue, follow_on, ruleset, customers=CUSTOMERS
            )
            assert not new.duplicate
            newest = await client.get_workflow_handle(first.workflow_id).describe()
            assert newest.run_id != closed_run
            assert newest.status == WorkflowExecutionStatus.RUNNING

    asyncio.run(scenario())
