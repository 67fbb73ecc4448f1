"""Every timeline entry carries a code from workflows.timeline, and docs/workflow.md lists them:
an auditor's tools filter on codes, so a new one must not appear unannounced."""

from __future__ import annotations

import ast
import base64
import json
import re
from collections.abc import Iterator

from tests.conftest import ROOT
from tests.harness import HISTORIES
from workflows import faults
from workflows.timeline import EVENTS

# Codes the workflow writes from a variable rather than a literal: the deadline events, an
# edit or an unsend, and the last line of defence.
COMPUTED = {
    "window.warning",
    "window.internal",
    "window.published",
    "customer.edited",
    "customer.withdrew",
    faults.EVENT,
}


def _literal_codes() -> dict[str, str]:
    """Each literal code passed to ``note(…)`` in workflows/, with where."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "note"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = f"{path.name}:{node.lineno}"
    return found


def test_the_workflow_writes_only_listed_codes_and_every_listed_code_is_written() -> None:
    written = _literal_codes()
    unlisted = {code: where for code, where in written.items() if code not in EVENTS}
    assert unlisted == {}, "add these codes to workflows/timeline.py and docs/workflow.md"
    assert set(EVENTS) == set(written) | COMPUTED


def test_the_docs_list_every_code() -> None:
    docs = (ROOT / "docs" / "workflow.md").read_text()
    section = docs.split("### Timeline codes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.M)
    assert listed == list(EVENTS)


def _timelines(value: object) -> Iterator[list[dict[str, object]]]:
    """Every ``timeline`` list inside a decoded payload (a result, a carried state)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "timeline" and isinstance(inner, list):
                yield inner
            else:
                yield from _timelines(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _timelines(inner)


def _payloads(history: dict[str, object]) -> Iterator[object]:
    """The JSON payloads of the inquiry's result and of each continue-as-new input."""
    events = history.get("events", [])
    assert isinstance(events, list)
    for event in events:
        for key in ("workflowExecutionCompletedEventAttributes",):
            payloads = event.get(key, {}).get("result", {}).get("payloads", [])
            for payload in payloads:
                yield json.loads(base64.b64decode(payload["data"]))
        attributes = event.get("workflowExecutionContinuedAsNewEventAttributes", {})
        for payload in attributes.get("input", {}).get("payloads", []):
            yield json.loads(base64.b64decode(payload["data"]))


def test_recorded_inquiries_used_only_listed_codes() -> None:
    seen: dict[str, str] = {}
    for path in sorted(HISTORIES.rglob("*.json")):
        if "README" in path.name:
            continue
        for payload in _payloads(json.loads(path.read_text())):
            for timeline in _timelines(payload):
                for entry in timeline:
                    seen.setdefault(str(entry["event"]), path.name)
    assert len(seen) >= 15  # the corpus exercises most of them
    assert {code: where for code, where in seen.items() if code not in EVENTS} == {}
