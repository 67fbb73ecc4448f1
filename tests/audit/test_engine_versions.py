"""An auditor sees what ran an inquiry beside its ruleset digest: careflow's version, the tz
database's and the engine's, as the history recorded them at the rules load (docs/audit.md)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.audit.cli import careflow
from tests.harness import HISTORIES

RECORDED = HISTORIES / "engine-versions.json"  # recorded by careflow 0.1.0 with tzdata 2026f
EARLIER = HISTORIES / "auto-ack.json"  # recorded before careflow kept versions


def test_the_report_says_what_ran_the_inquiry(tmp_path: Path) -> None:
    async def scenario() -> None:
        code, stdout, _ = await careflow("", tmp_path, "audit", "report", str(RECORDED))
        assert code == 0, stdout
        assert "run by careflow 0.1.0 · tzdata 2026f · engine 1" in stdout
        code, stdout, _ = await careflow("", tmp_path, "audit", "report", str(RECORDED), "--json")
        ruleset = json.loads(stdout)["ruleset"]
        assert (ruleset["careflow_version"], ruleset["tzdata_version"]) == ("0.1.0", "2026f")
        assert ruleset["engine_version"] == "1" and len(ruleset["digest"]) == 64
        page = tmp_path / "report.html"
        code, _, _ = await careflow(
            "", tmp_path, "audit", "report", str(RECORDED), "--html", str(page)
        )
        assert code == 0 and "careflow 0.1.0 · tzdata 2026f · engine 1" in page.read_text()

    asyncio.run(scenario())


def test_an_earlier_history_says_the_versions_were_not_recorded(tmp_path: Path) -> None:
    async def scenario() -> None:
        code, stdout, _ = await careflow("", tmp_path, "audit", "report", str(EARLIER))
        assert code == 0, stdout
        assert "run by careflow not recorded · tzdata not recorded · engine 1" in stdout

    asyncio.run(scenario())
