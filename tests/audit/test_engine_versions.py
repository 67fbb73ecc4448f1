"""An auditor sees what ran an inquiry beside its ruleset digest: careflow's version, the tz
database's and the engine's, as the history recorded them at the rules load (docs/audit.md)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.audit.cli import careflow, edit_payloads
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


def test_replay_says_when_the_history_ran_on_another_tz_database(tmp_path: Path) -> None:
    older = tmp_path / "older-tzdata.json"
    shutil.copy(RECORDED, older)
    edit_payloads(older, _recorded_tzdata("2025b"))

    async def scenario() -> None:
        code, stdout, _ = await careflow("", tmp_path, "audit", "replay", str(RECORDED))
        assert (code, "tzdata" in stdout) == (0, False), stdout
        code, stdout, _ = await careflow("", tmp_path, "audit", "replay", str(older))
        assert code == 0 and "1 clean" in stdout, stdout  # a note, not a failure
        assert "recorded with tzdata 2025b, replayed with tzdata 2026f" in stdout

    asyncio.run(scenario())


def _recorded_tzdata(version: str) -> Callable[[Any], Any]:
    def edit(value: Any) -> Any:
        if isinstance(value, dict) and "tzdata_version" in value:
            return {**value, "tzdata_version": version}
        return value

    return edit
