"""What an edit to ``topics:`` or a segment rule moves, on the four recorded inquiries of
tests/whatif/recordings.py: per topic before and after, the inquiries whose topics changed, and
the segment a new rule sets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.engine.ruleset import load_ruleset
from careflow.whatif.fast import run_fast
from careflow.whatif.full import run_full
from careflow.whatif.recorded import Act
from careflow.whatif.sources import from_folder
from tests.whatif.conftest import Recorded
from tests.whatif.recordings import OLD

runner = CliRunner()

# The baseline knows one topic, on the word "parcel" (the 'late' inquiry).
BEFORE = OLD + (
    "topics:\n"
    "  delivery: {when: {text: {contains_any: [parcel]}}}\n"
)  # fmt: skip
# The edit widens it to shipping questions ('ship'), adds a returns topic ('return') and sets a
# segment for Canada ('ship' again).
AFTER = (
    OLD.replace("name: shop", "name: shop-topics") + "  - name: canada\n"
    "    on: received\n"
    "    when: {text: {contains: canada}}\n"
    "    do: [{set: {segment: canada}}]\n"
    "topics:\n"
    "  delivery: {when: {text: {contains_any: [parcel, ship]}}}\n"
    "  returns: {when: {text: {contains: return}}}\n"
)


def files(folder: Path) -> tuple[Path, Path]:
    before, after = folder / "before.yaml", folder / "after.yaml"
    before.write_text(BEFORE, encoding="utf-8")
    after.write_text(AFTER, encoding="utf-8")
    return before, after


def whatif(recorded: Recorded, folder: Path, *extra: str) -> Any:
    before, after = files(folder)
    args = ["rules", "whatif", "--rules", str(after), "--baseline", str(before)]
    result = runner.invoke(app, [*args, "--histories", str(recorded.histories), *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def topic_changes(report: dict[str, Any]) -> list[tuple[str, str, Any, Any, str | None]]:
    return [
        (c["workflow_id"], c["field"], c["before"], c["after"], c["rule"])
        for c in report["changes"]
        if c["field"] in ("topics", "segment")
    ]


def test_the_json_counts_each_topic_before_and_after_and_lists_who_moved(
    recorded: Recorded, tmp_path: Path
) -> None:
    report = json.loads(whatif(recorded, tmp_path, "--json"))
    ids = recorded.ids
    assert report["topics"] == [
        {"topic": "delivery", "before": 1, "after": 2, "gained": 1, "lost": 0,
         "examples_gained": [ids["ship"]], "examples_lost": []},
        {"topic": "returns", "before": 0, "after": 1, "gained": 1, "lost": 0,
         "examples_gained": [ids["return"]], "examples_lost": []},
    ]  # fmt: skip
    assert topic_changes(report) == [
        (ids["return"], "topics", [], ["returns"], "topics.returns"),
        (ids["ship"], "segment", "general", "canada", "canada"),
        (ids["ship"], "topics", [], ["delivery"], "topics.delivery"),
    ]
    assert report["segments"] == [
        {"segment": "general", "before": 4, "after": 3},
        {"segment": "canada", "before": 0, "after": 1},
    ]
    assert [(m["field"], m["before"], m["after"], m["count"]) for m in report["moved"]] == [
        ("segment", "general", "canada", 1)
    ]


def test_the_terminal_and_the_html_page_show_the_topics_and_segments(
    recorded: Recorded, tmp_path: Path
) -> None:
    out = whatif(recorded, tmp_path)
    assert "Topics" in out and "Segments" in out
    delivery = next(line for line in out.splitlines() if line.lstrip().startswith("delivery"))
    assert delivery.split()[:4] == ["delivery", "1", "2", "+1"]
    assert f"{recorded.ids['ship']}: - → delivery" in out
    page = tmp_path / "whatif.html"
    whatif(recorded, tmp_path, "--html", str(page))
    html = page.read_text()
    assert "<h2>Topics</h2>" in html and "<h2>Segments</h2>" in html
    assert "<td>returns</td><td>0</td><td>1</td>" in html
    assert "<td>canada</td><td>0</td><td>1</td>" in html


def test_a_later_customer_message_counts_for_its_topics_and_a_dropped_inquiry_for_none(
    recorded: Recorded, tmp_path: Path
) -> None:
    before, after = (load_ruleset(path) for path in files(tmp_path))
    inquiries = asyncio.run(from_folder(recorded.histories, pydantic_data_converter))
    by_id = {r.workflow_id: r for r in inquiries}
    coupon = by_id[recorded.ids["coupon"]]
    message = {"id": "m1", "text": "and my parcel never came", "at": coupon.started_at}
    by_id[coupon.workflow_id] = dataclasses.replace(
        coupon, acts=[Act(timedelta(minutes=1), "signal", "customer_message", message)]
    )
    report = run_fast(after, before, list(by_id.values()))
    delivery = report.topics[0]
    assert (delivery.topic, delivery.before, delivery.after) == ("delivery", 2, 3)
    dropping = tmp_path / "dropping.yaml"  # the edit, and the coupon post dropped as spam
    dropping.write_text(
        AFTER.replace(
            "rules:\n",
            "rules:\n  - name: drop-coupon-spam\n    on: received\n"
            "    when: {text: {contains: coupon}}\n    do: [{drop: spam}]\n",
        ),
        encoding="utf-8",
    )
    report = run_fast(load_ruleset(dropping), before, list(by_id.values()))
    delivery = report.topics[0]
    assert (delivery.topic, delivery.before, delivery.after) == ("delivery", 2, 2)
    assert (delivery.examples_gained, delivery.examples_lost) == (
        [recorded.ids["ship"]],
        [coupon.workflow_id],
    )


def test_the_full_path_reports_the_same_topics(recorded: Recorded, tmp_path: Path) -> None:
    before, after = (load_ruleset(path) for path in files(tmp_path))

    async def full() -> Any:
        inquiries = await from_folder(recorded.histories, pydantic_data_converter)
        return await run_full(after, before, inquiries)

    fast = json.loads(whatif(recorded, tmp_path, "--json"))
    report = asyncio.run(full()).model_dump(mode="json")
    assert report["topics"] == fast["topics"]
    assert topic_changes(report) == topic_changes(fast)


def test_a_rule_review_can_gate_on_inquiries_changing_topics(
    recorded: Recorded, tmp_path: Path
) -> None:
    before, after = files(tmp_path)
    args = ["rules", "whatif", "--rules", str(after), "--baseline", str(before)]
    args += ["--histories", str(recorded.histories), "--json"]
    result = runner.invoke(app, [*args, "--fail-if", "changed.topics >= 50%"])
    assert result.exit_code == 3, result.output
    assert "changed.topics" in result.stderr
    assert runner.invoke(app, [*args, "--fail-if", "changed.topics > 50%"]).exit_code == 0
