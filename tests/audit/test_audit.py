"""``careflow audit``: export histories, replay them (exit 1 on non-determinism), report one
inquiry — run as an auditor would, against a real dev server with a worker."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from careflow.engine.ruleset import load_ruleset
from careflow.temporal.intake import intake
from tests.audit.cli import careflow
from tests.harness import CUSTOMERS, dev_worker, example, quick_follow_up_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest


def test_export_replay_and_report(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)
    out = tmp_path / "exported"

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "careflow") as (env, settings):
            client = env.client
            address = client.service_client.config.target_host
            now = await env.get_current_time()
            closed = example("warranty", now, text="My blender <script>alert(1)</script> is broken")
            still_open = example("billing", now)
            closed_id = (
                await intake(
                    client, settings.temporal.task_queue, closed, ruleset, customers=CUSTOMERS
                )
            ).workflow_id
            open_id = (
                await intake(
                    client,
                    settings.temporal.task_queue,
                    still_open,
                    ruleset,
                    customers=CUSTOMERS,
                )
            ).workflow_id
            assert closed_id and open_id
            handle = client.get_workflow_handle_for(InquiryWorkflow.run, closed_id)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! Replacing it.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
            )
            await handle.result()

            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "export", "--out", str(out)
            )
            assert code == 0 and "exported 2 histories" in stdout
            names = sorted(p.name.split("__")[0] for p in out.glob("*__*.json"))
            assert names == sorted([closed_id, open_id])
            code, stdout, _ = await careflow(
                address,
                tmp_path,
                "audit",
                "export",
                "--query",
                "CareCategory='billing'",
                "--since",
                "1h",
                "--out",
                str(tmp_path / "billing"),
            )
            assert code == 0
            assert [p.name.split("__")[0] for p in (tmp_path / "billing").glob("*__*.json")] == [
                open_id
            ]
            code, _, stderr = await careflow(
                address, tmp_path, "audit", "export", "inquiry-x-nope", "--out", str(out)
            )
            assert code == 1 and "no inquiry with id inquiry-x-nope" in stderr

            code, stdout, _ = await careflow(address, tmp_path, "audit", "replay", str(out))
            assert (code, stdout.strip()) == (
                0,
                "replayed 2 histories: 2 clean, 0 non-deterministic",
            )
            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "replay", "--query", f"WorkflowId='{closed_id}'"
            )
            assert code == 0 and "1 clean" in stdout

            # A history the current code cannot have produced: replay names it and fails.
            tampered = next(out.glob(f"{closed_id}__*.json"))
            text = tampered.read_text().replace('"name": "load_rules"', '"name": "load_rules_v0"')
            tampered.write_text(text)
            code, stdout, _ = await careflow(address, tmp_path, "audit", "replay", str(out))
            assert code == 1
            assert f"FAIL {closed_id}" in stdout and "1 non-deterministic" in stdout

            code, stdout, _ = await careflow(address, tmp_path, "audit", "report", closed_id)
            assert code == 0
            for expected in (
                "closed: no answer to the follow-up",
                f"ruleset default sha256 {ruleset.digest}",
                "warranty",
                "Sorry! Replacing it. ^Ana",
                "acknowledge",
            ):
                assert expected in stdout, expected
            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "report", closed_id, "--json"
            )
            report = json.loads(stdout)
            assert report["outcome"]["state"] == "closed"
            assert report["outcome"]["resolution_code"] == "replaced"
            assert [f["rule"] for f in report["fired"]] == ["warranty"]
            verdicts = {c["clock"]: c["verdict"] for c in report["clocks"]}
            assert verdicts == {"acknowledge": "met", "resolve": "met"}
            page = tmp_path / "case.html"
            code, _, _ = await careflow(
                address, tmp_path, "audit", "report", closed_id, "--html", str(page)
            )
            html = page.read_text()
            assert code == 0 and "<script>alert(1)</script>" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "report", open_id, "--json"
            )
            assert json.loads(stdout)["outcome"]["state"] == "open"

            code, stdout, _ = await careflow(address, tmp_path, "report", "--since", "1h", "--json")
            sla = json.loads(stdout)
            assert code == 0
            total = sla["total"]
            assert (total["inquiries"], total["open"], total["answered"]) == (2, 1, 1)
            assert total["breaches"] == 0 and total["within_published_share"] == 1.0
            assert 0 <= total["first_response_median_seconds"] < 60
            assert set(sla["by"]["category"]) == {"warranty", "billing"}
            assert sla["by"]["channel"]["instagram"]["answered"] == 1
            code, stdout, _ = await careflow(address, tmp_path, "report", "--since", "1h")
            assert code == 0 and "all inquiries" in stdout and "category billing" in stdout

            teams = tmp_path / "teams.yaml"
            teams.write_text(pack.read_text() + "\nteams:\n  care: {agents: [Ana]}\n")
            code, stdout, _ = await careflow(
                address,
                tmp_path,
                "report",
                "--since",
                "1h",
                "--by",
                "agent,team",
                "--rules",
                str(teams),
                "--csv",
            )
            rows = {(r["dimension"], r["group"]): r for r in csv.DictReader(io.StringIO(stdout))}
            assert code == 0
            assert (
                rows[("agent", "Ana")]["inquiries"],
                rows[("agent", "Ana")]["resolved"],
            ) == (
                "1",
                "1",
            )
            assert rows[("agent", "(unassigned)")]["inquiries"] == "1"
            assert rows[("team", "care")]["resolved"] == "1"
            code, _, stderr = await careflow(address, tmp_path, "report", "--by", "shoe")
            assert code == 1 and "--by 'shoe': use one of channel" in stderr

    asyncio.run(scenario())
