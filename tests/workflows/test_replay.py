"""Recorded inquiry histories replay against today's workflow code: a change that would alter
any recorded history fails CI here (guard such changes with ``workflow.patched``).

The corpus, all under tests/workflows/ (docs/audit.md, "The recorded corpus", says more):

- histories/*.json: the workflow tests' paths (``keep_history`` in test_inquiry_workflow.py and
  others), each recorded by the code of its day and kept since;
- histories/corpus/: current recordings of what those do not keep (test_corpus.py): a native
  reply learned after a deadline, search attributes on (a dev server), a continue-as-new chain
  (every run), a long post;
- histories/earlier/: recordings by previous workflow versions (the first ones started without
  signal-with-start; native-reply-learned-late.json by the code before f464dc7, chain-run-N by
  the code before the bounded-state patch);
- encrypted_histories/: encrypted with careflow's codec under the public test-only key
  ``tests.harness.CORPUS_TEST_KEYS``, replayed with it;
- fault_histories/: recorded with a bug injected into the rule engine (``tests.workflows.faulty``),
  which replay only with the same bug.

It grows with every release, by adding files, never rewriting them: record a new path with
``CAREFLOW_RECORD_HISTORIES=1 pytest tests/workflows/test_corpus.py -k <test>`` (today's code),
and the same scenario with the code before the change, run in a temporary ``git worktree`` of
that commit, into earlier/. test_patch_coverage.py fails until every ``workflow.patched`` id has
both (or a stated reason). Never re-record to paper over a replay failure, and never delete an
earlier recording while inquiries of that version may run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from careflow.settings import EncryptionSettings
from careflow.temporal.connection import data_converter
from tests.harness import CORPUS_TEST_KEYS, ENCRYPTED_HISTORIES, FAULT_HISTORIES, HISTORIES
from tests.workflows.faulty import rules_break_on_customer_messages
from workflows.inquiry import InquiryWorkflow
from workflows.messages import InquiryInput, InquiryResult


def _history_files() -> list[Path]:
    """Today's recordings, and earlier/ ones from previous versions of the workflow."""
    return sorted(HISTORIES.rglob("*.json"))


def _histories(files: list[Path]) -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(f"recorded-{f.parent.name}-{f.stem}", json.loads(f.read_text()))
        for f in files
    ]


def _replay(
    workflow_class: type,
    files: list[Path] | None = None,
    converter: DataConverter = pydantic_data_converter,
) -> dict[str, str | None]:
    replayer = Replayer(workflows=[workflow_class], data_converter=converter)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for history in _histories(_history_files() if files is None else files):
            yield history

    async def replay_all() -> dict[str, str | None]:
        results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
        return {
            run_id: (str(failure) if failure else None)
            for run_id, failure in results.replay_failures.items()
        }

    return asyncio.run(replay_all())


def test_every_recorded_path_is_kept() -> None:
    names = {path.stem for path in HISTORIES.glob("*.json")}
    assert {
        "dropped",
        "auto-ack",
        "safety-net-ack",
        "published-breach",
        "human-ack",
        "privatize-dm",
        "privatize-given-up",
        "reopen-after-follow-up",
        "silent-follow-up",
        "friday-evening",
        "duplicate-message",
        "validators",
        "native-reply",
        "chat-link",
        "new-inquiry-same-conversation",
        "future-post-escalated",
        "x-thread",
        "insights-topics",
        "engine-versions",  # its rules load records careflow's and tzdata's versions
    } <= names
    assert {path.stem for path in FAULT_HISTORIES.glob("*.json")} >= {"rules-error"}
    assert {path.stem for path in (HISTORIES / "corpus").glob("*.json")} >= {
        "native-reply-learned-late",
        "search-attributes-rated",
        "chain-run-1",
        "chain-run-2",
        "chain-run-3",
        "long-post-answered",
    }
    assert {path.stem for path in (HISTORIES / "earlier").glob("*.json")} >= {
        "native-reply-learned-late",
        "search-attributes-before-sla-patch",
        "chain-run-1",
        "chain-run-2",
        "chain-run-3",
    }
    assert {path.stem for path in ENCRYPTED_HISTORIES.glob("*.json")} >= {"acknowledged-resolved"}


def test_recorded_histories_replay_on_the_current_workflow() -> None:
    failures = _replay(InquiryWorkflow)
    assert failures == {}


def test_encrypted_histories_replay_with_their_key_only() -> None:
    """Recorded with careflow's codec under the test-only key: they replay as a worker with
    that key would, and (really encrypted) not without it."""
    files = sorted(ENCRYPTED_HISTORIES.glob("*.json"))
    assert files
    keyed = data_converter(EncryptionSettings(keys=CORPUS_TEST_KEYS))
    assert _replay(InquiryWorkflow, files, keyed) == {}
    keyless = _replay(InquiryWorkflow, files)
    assert len(keyless) == len(files)
    assert all("Failed decoding arguments" in str(f) for f in keyless.values())


def test_histories_of_a_broken_rule_engine_replay_with_the_same_bug() -> None:
    """The last line of defence escalated where the rules raised; replay raises there too."""
    with rules_break_on_customer_messages():
        failures = _replay(InquiryWorkflow, sorted(FAULT_HISTORIES.glob("*.json")))
    assert failures == {}


@workflow.defn(name="Inquiry", sandboxed=False)
class ReorderedInquiry:
    """A careless change: the workflow waits before loading its rules."""

    @workflow.run
    async def run(self, input: InquiryInput) -> InquiryResult:
        await workflow.sleep(timedelta(seconds=1))
        raise AssertionError("never reached in replay")


def test_an_incompatible_change_fails_replay(tmp_path: Path) -> None:
    failures = _replay(ReorderedInquiry)
    assert len(failures) == len(_history_files())
    # A continued run that began by waiting (earlier/chain-run-3) replays the sleep as its timer
    # and fails on reaching what the history never ran.
    assert all(
        "nondeterminism" in str(f).lower() or "never reached in replay" in str(f)
        for f in failures.values()
        if f
    )
