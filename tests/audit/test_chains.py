"""A long inquiry is a chain of runs (continue-as-new). ``export --since`` used to drop the
earlier runs of a chain whose latest run is in range; replay and verify now say which runs a
folder lacks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from careflow.temporal.intake import first_message
from tests.audit.cli import careflow
from tests.harness import dev_worker, example, quick_follow_up_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import CustomerMessage, InquiryInput


def test_export_since_keeps_whole_chains_and_a_missing_run_is_named(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    out = tmp_path / "exported"

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "careflow") as (env, _settings):
            client = env.client
            address = client.service_client.config.target_host
            inquiry = example("question", await env.get_current_time())
            handle = await client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=inquiry, history_limit=40),
                id="inquiry-chain",
                task_queue="careflow",
                start_signal="customer_message",
                start_signal_args=[first_message(inquiry)],
            )
            first_run = handle.result_run_id
            await asyncio.sleep(4)  # the first run starts outside --since 3s
            for n in range(30):
                message = CustomerMessage(
                    id=f"m-{n}", text=f"message {n}", at=await env.get_current_time()
                )
                await handle.signal(InquiryWorkflow.customer_message, message)
            for _ in range(100):
                if (await client.get_workflow_handle(handle.id).describe()).run_id != first_run:
                    break
                await asyncio.sleep(0.1)
            latest = (await client.get_workflow_handle(handle.id).describe()).run_id
            assert latest != first_run, "the inquiry never continued as new"
            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "export", "--since", "3s", "--out", str(out)
            )
            assert code == 0, stdout

        files = sorted(out.glob("*__*.json"))
        runs = {path.stem.rsplit("__", 1)[1] for path in files}
        assert first_run in runs and latest in runs  # the whole chain, not just the recent run
        code, stdout, _ = await careflow("", tmp_path, "audit", "replay", str(out))
        assert code == 0 and f"{len(files)} clean" in stdout, stdout
        code, stdout, _ = await careflow("", tmp_path, "audit", "verify", str(out))
        assert code == 0, stdout

        first_file = next(path for path in files if first_run in path.name)
        code, stdout, _ = await careflow("", tmp_path, "audit", "report", str(first_file), "--json")
        assert code == 0 and json.loads(stdout)["outcome"]["state"].startswith("open")

        first_file.unlink()
        code, stdout, _ = await careflow("", tmp_path, "audit", "replay", str(out))
        assert code == 1
        assert f"MISSING inquiry-chain: run {first_run} is missing" in stdout
        code, stdout, _ = await careflow("", tmp_path, "audit", "verify", str(out))
        assert code == 1
        assert f"missing   {first_file.name}" in stdout and "MISSING inquiry-chain" in stdout

    asyncio.run(scenario())
