"""``careflow rules whatif`` on four recorded inquiries and two rule files with three known
differences (tests/whatif/recordings.py): both paths report exactly those changes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.engine.ruleset import load_ruleset
from careflow.whatif.fast import run_fast
from careflow.whatif.full import run_full
from careflow.whatif.sources import from_folder
from tests.whatif.conftest import Recorded

runner = CliRunner()


def whatif(recorded: Recorded, *extra: str) -> Any:
    result = runner.invoke(
        app,
        [
            "rules",
            "whatif",
            "--rules",
            str(recorded.new),
            "--baseline",
            str(recorded.old),
            "--histories",
            str(recorded.histories),
            "--json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def expected(ids: dict[str, str]) -> list[dict[str, Any]]:
    """The three edits, as each inquiry feels them; 'ship' (answered in 2 minutes) does not."""
    return [
        {"workflow_id": ids["coupon"], "field": "dropped", "before": False, "after": True,
         "rule": "drop-coupon-spam"},
        # Answered at +15m: within 30m before; now the safety net answers at +10m, just late.
        {"workflow_id": ids["return"], "field": "auto_replies", "before": 0, "after": 1,
         "rule": "safety-net"},
        {"workflow_id": ids["return"], "field": "clock.acknowledge", "before": "met",
         "after": "missed internal", "rule": "safety-net"},
        # Answered at +45m: past 30m before; past the new 20m window now, and a supervisor hears.
        {"workflow_id": ids["late"], "field": "notifications", "before": 0, "after": 1,
         "rule": "breach-alert"},
        {"workflow_id": ids["late"], "field": "clock.acknowledge", "before": "missed internal",
         "after": "breached published", "rule": "windows.standard"},
    ]  # fmt: skip


def without_run_ids(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in change.items() if k != "run_id"} for change in changes]


def test_the_fast_path_reports_exactly_the_three_edits(recorded: Recorded) -> None:
    report = whatif(recorded)
    assert report["path"] == "fast"
    assert report["inquiries"] == 4
    assert without_run_ids(report["changes"]) == expected(recorded.ids)
    assert report["totals"]["before"] | {"clocks": 0} == {
        "dropped": 0, "auto_replies": 0, "notifications": 0, "escalations": 0,
        "breaches_published": 0, "within_internal": 2, "clocks": 0, "diverged": 0,
    }  # fmt: skip
    assert report["totals"]["after"] | {"clocks": 0} == {
        "dropped": 1, "auto_replies": 1, "notifications": 1, "escalations": 0,
        "breaches_published": 1, "within_internal": 1, "clocks": 0, "diverged": 0,
    }  # fmt: skip
    gained = report["drops"]["gained"]
    assert [(d["workflow_id"], d["rule"], d["reason"]) for d in gained] == [
        (recorded.ids["coupon"], "drop-coupon-spam", "spam")
    ]
    assert gained[0]["text"] == "@shop free coupon codes here"


def test_the_full_path_reports_the_same_changes_and_the_refused_resolve_as_diverged(
    recorded: Recorded,
) -> None:
    report = whatif(recorded, "--full", "--parallel", "2")
    assert report["path"] == "full"
    assert without_run_ids(report["changes"]) == expected(recorded.ids)
    # The agent resolved the coupon post; the new rules dropped it, so the run refuses that.
    assert report["diverged"] == [
        {
            "workflow_id": recorded.ids["coupon"],
            "side": "after",
            "reason": "resolve at +5m: the inquiry was already closed",
        }
    ]
    assert report["skipped"] == []
    before, after = report["totals"]["before"], report["totals"]["after"]
    assert (before["breaches_published"], after["breaches_published"]) == (0, 1)
    assert (before["notifications"], after["notifications"]) == (0, 1)
    assert (before["diverged"], after["diverged"]) == (0, 1)


def test_the_same_inputs_give_the_same_report_twice(recorded: Recorded) -> None:
    new, old = load_ruleset(recorded.new), load_ruleset(recorded.old)

    async def both() -> tuple[str, str, str, str]:
        inquiries = await from_folder(recorded.histories, pydantic_data_converter)
        fast = [run_fast(new, old, inquiries).model_dump_json() for _ in range(2)]
        full = [(await run_full(new, old, inquiries)).model_dump_json() for _ in range(2)]
        return fast[0], fast[1], full[0], full[1]

    fast_1, fast_2, full_1, full_2 = asyncio.run(both())
    assert fast_1 == fast_2
    assert full_1 == full_2


def test_without_a_baseline_each_inquiry_is_compared_with_the_rules_it_ran_with(
    recorded: Recorded,
) -> None:
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(recorded.new), "--histories",
         str(recorded.histories), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["baseline"] == "history"
    assert without_run_ids(report["changes"]) == expected(recorded.ids)


def test_the_old_rules_against_themselves_change_nothing(recorded: Recorded) -> None:
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(recorded.old), "--histories", str(recorded.histories)],
    )
    assert result.exit_code == 0, result.output
    assert "No inquiry would change." in result.stdout


def test_the_terminal_report_names_the_rules_and_examples(recorded: Recorded) -> None:
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(recorded.new), "--baseline", str(recorded.old),
         "--histories", str(recorded.histories)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "what-if over 4 inquiries" in out
    assert "Newly dropped: 1" in out
    assert "drop-coupon-spam" in out and recorded.ids["coupon"] in out
    assert "free coupon codes here" in out
    assert "breach-alert" in out and recorded.ids["late"] in out


def test_the_html_page_holds_every_change(recorded: Recorded, tmp_path: Path) -> None:
    page = tmp_path / "whatif.html"
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(recorded.new), "--baseline", str(recorded.old),
         "--histories", str(recorded.histories), "--html", str(page)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    for label in ("coupon", "return", "late"):
        assert recorded.ids[label] in html
    assert recorded.ids["ship"] not in html
