"""Every ``workflow.patched`` id in workflows/ is proven by the recorded corpus both ways.

test_replay.py fails when a change alters a recorded history; that only protects the paths the
corpus holds. Here the corpus is replayed with ``workflow.patched`` watched, and each patch id
found in the workflow source must be answered

- True by some history (its marker is recorded: the new branch replays), and
- False by some history recorded before it (the question is asked in replay and the old branch
  is taken), unless it is listed in KNOWN_GAPS with the reason no such history can exist.

So a new patch needs new recordings: a current one (tests/workflows/histories/corpus/) and one
made by the code before it (tests/workflows/histories/earlier/), see test_replay.py.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from careflow.settings import EncryptionSettings
from careflow.temporal.connection import data_converter
from tests.conftest import ROOT
from tests.harness import CORPUS_TEST_KEYS, ENCRYPTED_HISTORIES, FAULT_HISTORIES, HISTORIES
from tests.workflows.faulty import rules_break_on_customer_messages
from workflows.inquiry import InquiryWorkflow
from workflows.proactive import ProactivePostWorkflow
from workflows.qa import QaReviewWorkflow
from workflows.trend_watch import TrendWatchWorkflow

WORKFLOWS = ROOT / "workflows"
TESTS = ROOT / "tests" / "workflows"
OTHER_HISTORIES = [TESTS / "review_histories", TESTS / "trend_histories"]

# Patch ids whose old branch no recorded history can take, and why. A gap that gets covered
# fails the tests below: take it off this list then.
KNOWN_GAPS = {
    "console-actors-recorded": "asked only for actions that carry an actor (name, role, "
    "channel), which clients send only from the same commit on",
    "qa-review": "asked only when the rule file configures QA sampling, which rule files could "
    "not say before this patch",
    "x-thread": "asked only for X inquiries the intake started with CareThread, which only the "
    "intake of the same commit sets: no inquiry started before the patch asks",
    "insights-topics": "asked only for inquiries the intake started with CareSegment, which only "
    "the intake of the same commit sets: no inquiry started before the patch asks",
    "csat-rating": "asked only when the rule file configures a follow-up rating, which rule "
    "files say only since the CSAT work that brought this patch",
    "last-line-of-defence": "asked only when the rules or a calendar raise; before the patch such "
    "a workflow task failed and retried forever, so no pre-patch history completes past it",
    "bounded-text": "asked only for a text longer than its channel's limit; no history recorded "
    "before the patch has one (the old code read the whole text)",
    "loose-supervisor-at-risk": "asked only for inquiries the intake started with CareHighReach, "
    "which only the intake of the same commit sets: no inquiry started before the patch asks",
    "feedback-messenger-template": "asked only for a customer message carrying a structured "
    "rating or a follow-up on Messenger with messenger_template set, which neither the intake "
    "nor rule files could give before this patch",
    "chat-link": "asked only when a chat hand-off answers with a session link, which deliveries "
    "carry only since the commit before the patch (6ff2185); none recorded in between",
}

# Patch ids whose old branch recorded histories take, but where the new branch sends the same
# commands (what differs is something replay does not compare), and why.
SAME_COMMANDS = {
    "bounded-state": "the old branch keeps the whole state and handles every waiting message in "
    "one turn; the pre-patch histories (earlier/chain-run-N, a chain recorded by the code before "
    "it, among them) are too short (under 100 messages, 50 in a turn) for that to change a command",
    "audit-rules-digest": "the check raises only for rules text that does not match its digest; "
    "honest histories pass it either way",
    "console-reason-codes": "a reason code is kept in the state and the timeline only",
    "inquiry-keys": "idempotency keys travel in activity inputs, which replay does not compare",
    "sla-search-attributes": "the SLA attributes change the values of the same upserts, which "
    "replay does not compare",
    "resolver-assigned": "the assignee is kept in the state (and CareAgent's value, which replay "
    "does not compare)",
    "privacy-deliver-variables": "a template's variables travel in the deliver activity's input, "
    "which replay does not compare; the message rendered from them is the same",
}


def patch_ids_in_source() -> dict[str, str]:
    """Each id passed to ``workflow.patched`` in workflows/, with the file:line asking it (the
    ids are module constants, read by importing the module that asks; the rule engine's version
    patches, ``engine-vN``, are listed by ``workflows.engine_version.patch_ids``)."""
    found: dict[str, str] = {}
    for path in sorted(WORKFLOWS.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        module = importlib.import_module(f"workflows.{path.stem}")
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "patched"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "workflow"
            ):
                continue
            (argument,) = node.args
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if path.stem == "engine_version":  # one id per engine version after the first
                found.update(dict.fromkeys(module.patch_ids(), where))
                continue
            value = eval(compile(ast.Expression(argument), where, "eval"), vars(module))
            assert isinstance(value, str), f"{where}: the patch id is not a string"
            found.setdefault(value, where)
    return found


@contextmanager
def watching_patches(answers: dict[str, set[tuple[str, bool]]]) -> Iterator[None]:
    """Meanwhile every ``workflow.patched`` call is noted under the replayed history's id, with
    its answer (the replayer runs unsandboxed, so the workflows call this module's function)."""
    original = workflow.patched

    def patched(patch_id: str) -> bool:
        answer = original(patch_id)
        answers.setdefault(workflow.info().workflow_id, set()).add((patch_id, answer))
        return answer

    workflow.patched = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        workflow.patched = original


def _replay(files: list[Path], converter: DataConverter = pydantic_data_converter) -> list[str]:
    """Replay ``files`` unsandboxed; the names (path under tests/workflows) of those that
    failed."""
    replayer = Replayer(
        workflows=[InquiryWorkflow, QaReviewWorkflow, ProactivePostWorkflow, TrendWatchWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
        data_converter=converter,
    )
    histories = [
        WorkflowHistory.from_json(str(f.relative_to(TESTS)), json.loads(f.read_text()))
        for f in files
    ]

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    async def replay_all() -> list[str]:
        results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
        names = {history.run_id: history.workflow_id for history in histories}
        return [names[run] for run, failure in results.replay_failures.items() if failure]

    return asyncio.run(replay_all())


def _replay_corpus(names: set[str] | None = None) -> list[str]:
    """Replay the whole corpus (or the histories ``names``), each folder as test_replay.py
    does; the names of those that failed."""
    plain = sorted(HISTORIES.rglob("*.json"))
    plain += [f for folder in OTHER_HISTORIES for f in sorted(folder.glob("*.json"))]
    encrypted = sorted(ENCRYPTED_HISTORIES.glob("*.json"))
    faults = sorted(FAULT_HISTORIES.glob("*.json"))
    if names is not None:
        plain, encrypted, faults = (
            [f for f in files if str(f.relative_to(TESTS)) in names]
            for files in (plain, encrypted, faults)
        )
    keyed = data_converter(EncryptionSettings(keys=CORPUS_TEST_KEYS))
    failed = _replay(plain) + _replay(encrypted, keyed)
    with rules_break_on_customer_messages():
        failed += _replay(faults)
    return failed


@pytest.fixture(scope="module")
def answers() -> dict[str, set[tuple[str, bool]]]:
    """Per recorded history (path under tests/workflows), the patch ids asked and answered."""
    found: dict[str, set[tuple[str, bool]]] = {}
    with watching_patches(found):
        failed = _replay_corpus()
    assert failed == [], "these do not replay (test_replay.py says why)"
    return found


@contextmanager
def forcing(patch_id: str) -> Iterator[None]:
    """Meanwhile ``workflow.patched(patch_id)`` says True without recording a marker: the
    workflow takes the new branch where a history recorded the old one, as it would if the
    change had been made without the patch."""
    original = workflow.patched

    def patched(asked: str) -> bool:
        return True if asked == patch_id else original(asked)

    workflow.patched = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        workflow.patched = original


def test_the_source_asks_the_patches_we_know() -> None:
    """The reading of the source works: it finds the patches known when this test was written."""
    assert {"sla-search-attributes", "native-reply-when-learned", "bounded-state"} <= set(
        patch_ids_in_source()
    )


def test_every_patch_has_a_recorded_history_with_its_marker(
    answers: dict[str, set[tuple[str, bool]]],
) -> None:
    taken = {patch_id for asked in answers.values() for patch_id, answer in asked if answer}
    missing = {
        patch_id: where
        for patch_id, where in patch_ids_in_source().items()
        if patch_id not in taken
    }
    assert missing == {}, "record a history (tests/workflows/histories/corpus/) that takes these"


def test_every_patch_has_a_history_from_before_it_that_takes_the_old_branch(
    answers: dict[str, set[tuple[str, bool]]],
) -> None:
    old = {patch_id for asked in answers.values() for patch_id, answer in asked if not answer}
    source = patch_ids_in_source()
    uncovered = {
        patch_id: where
        for patch_id, where in source.items()
        if patch_id not in old and patch_id not in KNOWN_GAPS
    }
    assert uncovered == {}, (
        "record, with the code before each of these patches, a history that asks it "
        "(tests/workflows/histories/earlier/), or say in KNOWN_GAPS why none can"
    )
    assert sorted(set(KNOWN_GAPS) & old) == [], "covered now: take these off KNOWN_GAPS"
    assert sorted(set(KNOWN_GAPS) - set(source)) == [], "no longer in the source"


def test_the_old_branch_of_every_patch_shows_in_a_recorded_history(
    answers: dict[str, set[tuple[str, bool]]],
) -> None:
    """Forcing the new branch where a history recorded the old one (the change made without its
    patch) fails replay of at least one history: the corpus would catch that change."""
    unseen: dict[str, str] = {}
    seen: list[str] = []
    for patch_id, where in patch_ids_in_source().items():
        before = {name for name, asked in answers.items() if (patch_id, False) in asked}
        if not before:
            continue  # a known gap (the test above)
        with forcing(patch_id):
            changed = _replay_corpus(before)
        if changed:
            seen.append(patch_id)
        elif patch_id not in SAME_COMMANDS:
            unseen[patch_id] = where
    assert unseen == {}, (
        "no recorded history shows these patches' old branch: record one, with the code before "
        "the patch, where it changes what the workflow does, or say in SAME_COMMANDS why none can"
    )
    assert sorted(set(SAME_COMMANDS) & set(seen)) == [], "shown now: take these off SAME_COMMANDS"
    assert "native-reply-when-learned" in seen  # earlier/native-reply-learned-late.json
