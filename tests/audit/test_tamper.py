"""Tamper evidence, as the issue found it missing: an exported history with the agent, the
resolution code and the rules text edited (its digest kept) replayed "1 clean". Now the signed
manifest names the edited file and replay names the rules text that no longer matches its digest;
an auditor with the files alone (no server) can replay, verify and read the report."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from careflow.audit.manifest import file_sha256
from careflow.engine.ruleset import load_ruleset
from careflow.temporal.intake import intake
from tests.audit.cli import careflow, edit_payloads, payload_text, replaced
from tests.harness import CUSTOMERS, dev_worker, example, quick_follow_up_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest


def _edit_rules_text(value: Any) -> Any:
    """The load_rules result with its text changed and its digest kept."""
    if isinstance(value, dict) and {"file", "name", "digest", "text"} <= set(value):
        return {**value, "text": value["text"].replace("wait: 1s", "wait: 9s")}
    return value


def test_a_tampered_export_is_caught_and_an_auditor_needs_only_files(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)
    out = tmp_path / "exported"
    auditor = tmp_path / "auditor"  # another home: no server, no keys but the public one

    async def scenario() -> None:
        async with dev_worker(tmp_path, pack, "careflow") as (env, settings):
            client = env.client
            address = client.service_client.config.target_host
            now = await env.get_current_time()
            inquiry = example("warranty", now, text="Broken blender, call me on 0612345678")
            wid = (
                await intake(
                    client, settings.temporal.task_queue, inquiry, ruleset, customers=CUSTOMERS
                )
            ).workflow_id
            assert wid
            handle = client.get_workflow_handle_for(InquiryWorkflow.run, wid)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! Replacing it.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
            )
            await handle.result()
            code, stdout, _ = await careflow(
                address, tmp_path, "audit", "export", wid, "--out", str(out)
            )
            assert code == 0 and "signed manifest" in stdout
            code, stdout, _ = await careflow(
                address,
                tmp_path,
                "audit",
                "export",
                wid,
                "--redact",
                "--out",
                str(tmp_path / "redacted"),
            )
            assert code == 0 and "(redacted)" in stdout

        # The server is gone: from here on the auditor has files and the public key.
        key = tmp_path / "audit-signing.pub"
        assert (tmp_path / "audit-signing.key").stat().st_mode & 0o777 == 0o600
        auditor.mkdir()
        (exported,) = out.glob("*__*.json")

        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(out), "--public-key", str(key)
        )
        assert code == 0, stdout
        assert f"verified  {exported.name}" in stdout and "1 of 1 files verified" in stdout

        code, stdout, _ = await careflow("", auditor, "audit", "report", str(exported), "--json")
        assert code == 0
        report = json.loads(stdout)
        assert report["id"] == wid and report["outcome"]["resolution_code"] == "replaced"

        # The case: agent, resolution code and rules text edited, the digest kept.
        tampered = tmp_path / "tampered"
        shutil.copytree(out, tampered)
        copy = tampered / exported.name
        edit_payloads(copy, replaced("Ana", "Mallory"))
        edit_payloads(copy, replaced("replaced", "refunded"))
        edit_payloads(copy, _edit_rules_text)
        # A stray JSON file (not a history) beside them is skipped with a warning.
        (tampered / "notes.json").write_text('{"reviewed": true}')
        copy.rename(tampered / "renamed.json")  # the id comes from the history, not the name

        code, stdout, stderr = await careflow("", auditor, "audit", "replay", str(tampered))
        assert code == 1, stdout
        assert "warning: skipped" in stderr and "notes.json" in stderr
        assert f"TAMPERED {wid}" in stdout and "the rules text hashes to sha256" in stdout
        assert "1 tampered" in stdout and "0 clean" in stdout
        # …and the workflow itself refuses the text (its own check, since audit-rules-digest).
        assert f"FAIL {wid}" in stdout and "RulesDigestMismatch" in stdout

        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(tampered), "--public-key", str(key)
        )
        assert code == 1
        assert f"missing   {exported.name}" in stdout
        assert "unsigned  renamed.json" in stdout and "NOT VERIFIED" in stdout
        (tampered / "renamed.json").rename(copy)
        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(copy), "--public-key", str(key)
        )
        assert (code, stdout.splitlines()[0]) == (1, f"modified  {exported.name}")

        # Only agent and code edited: replay cannot tell (the story still adds up), verify can.
        only_people = tmp_path / "only-people"
        shutil.copytree(out, only_people)
        edit_payloads(only_people / exported.name, replaced("Ana", "Mallory"))
        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(only_people), "--public-key", str(key)
        )
        assert code == 1 and f"modified  {exported.name}" in stdout

        # A manifest edited to match the edited file no longer carries a valid signature.
        manifest = json.loads((only_people / "manifest.json").read_text())
        manifest["files"][exported.name]["sha256"] = file_sha256(only_people / exported.name)
        (only_people / "manifest.json").write_text(json.dumps(manifest))
        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(only_people), "--public-key", str(key)
        )
        assert code == 1 and "signature does not hold" in stdout

        # The redacted export: no customer text or handle, verified, and replay says redacted.
        redacted = tmp_path / "redacted"
        (redacted_file,) = redacted.glob("*__*.json")
        text = payload_text(redacted_file)
        assert "Sorry! Replacing it." not in text and "0612345678" not in text
        assert "jo.bakes" not in text and "Broken blender" not in text
        assert payload_text(exported).count("jo.bakes") > 0  # where the unredacted one has it
        code, stdout, _ = await careflow(
            "", auditor, "audit", "verify", str(redacted), "--public-key", str(key)
        )
        assert code == 0 and "redacted" in stdout
        code, stdout, _ = await careflow("", auditor, "audit", "replay", str(redacted_file))
        assert code == 0 and "1 redacted (not replayed)" in stdout
        code, stdout, _ = await careflow(
            "", auditor, "audit", "report", str(redacted_file), "--json"
        )
        assert code == 0
        shown = json.loads(stdout)
        assert shown["inquiry"]["author"]["handle"] == "[redacted]"
        assert "0612345678" not in stdout and "jo.bakes" not in stdout and "blender" not in stdout
        assert shown["ruleset"]["digest"] == ruleset.digest and shown["agent"] == "Ana"

    asyncio.run(scenario())
