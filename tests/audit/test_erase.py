"""``careflow audit erase --customer CHANNEL:ID``: one customer's closed inquiries, their
visibility entries and delivery records deleted on request; refused while one is open. It finds
them by ``CareCustomer``'s keyed hash, and by the raw id inquiries started before it carry."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.service import RPCError, RPCStatusCode

from activities.adapters.sandbox import read_outbox
from careflow.engine.ruleset import load_ruleset
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.customers import customer_ids
from careflow.temporal.intake import intake
from careflow.temporal.worker import build_worker
from tests.audit.cli import careflow
from tests.harness import dev_server, example, quick_follow_up_pack, start_as_before
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest


def test_erase_deletes_a_customers_closed_inquiries_and_refuses_an_open_one(
    tmp_path: Path,
) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            address = client.service_client.config.target_host
            settings = Settings(
                rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="careflow")
            )
            customers = customer_ids(settings.customer_keys)  # the home's, as the CLI's
            async with build_worker(client, settings):
                now = await env.get_current_time()
                jo = example("warranty", now)  # instagram, author 40005
                other = example("billing", now)
                wid = (
                    await intake(client, "careflow", jo, ruleset, customers=customers)
                ).workflow_id
                other_id = (
                    await intake(client, "careflow", other, ruleset, customers=customers)
                ).workflow_id
                assert wid and other_id
                earlier = jo.model_copy(update={"id": "legacy-1", "conversation_id": "legacy-1"})
                legacy = await start_as_before(client, earlier, "careflow")
                await client.get_workflow_handle(legacy).terminate("closed before the hash")
                handle = client.get_workflow_handle_for(InquiryWorkflow.run, wid)
                await handle.execute_update(
                    InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Replacing it.")
                )
                code, _, stderr = await careflow(
                    address, tmp_path, "audit", "erase", "--customer", "instagram:40005"
                )
                assert code == 1 and f"open inquiries ({wid})" in stderr
                await handle.execute_update(
                    InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
                )
                await handle.result()
                before = read_outbox(settings.outbox)
                assert any(e["key"].startswith(f"{wid}/") for e in before)

                code, stdout, _ = await careflow(
                    address, tmp_path, "audit", "erase", "--customer", "instagram:40005"
                )
                assert code == 0, stdout
                assert f"deleted history and visibility entry of {wid}" in stdout
                assert f"deleted history and visibility entry of {legacy}" in stdout
                assert "erased instagram:40005: 2 runs" in stdout
                outbox = read_outbox(settings.outbox)
                assert not any(e["key"].startswith(f"{wid}/") for e in outbox)
                assert outbox == [e for e in before if not e["key"].startswith(f"{wid}/")]
                assert [w.id async for w in client.list_workflows(f"WorkflowId = '{other_id}'")]
                gone = False
                for _ in range(120):  # the server deletes in the background (seconds to a minute)
                    try:
                        await client.get_workflow_handle(wid).describe()
                    except RPCError as error:
                        gone = error.status == RPCStatusCode.NOT_FOUND
                    query = f"WorkflowId = '{wid}'"
                    gone = gone or not [w async for w in client.list_workflows(query)]
                    if gone:
                        break
                    await asyncio.sleep(0.5)
                assert gone
                code, _, stderr = await careflow(
                    address, tmp_path, "audit", "erase", "--customer", "nope"
                )
                assert code == 1 and "give CHANNEL:ID" in stderr

    asyncio.run(scenario())
