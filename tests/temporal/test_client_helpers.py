"""Client helpers and the inquiry commands' error paths, none of which needs a Temporal server."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from careflow.errors import CareflowError
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.connection import Connection, open_client
from careflow.temporal.explain import explain_error, explained
from careflow.temporal.intake import IntakeResult, first_message, intake, memo_of, workflow_id
from careflow.terminal import outbox_line, relative
from tests.conftest import DEFAULT_PACK, EXAMPLES
from tests.harness import CUSTOMERS

runner = CliRunner()
ADDRESS = "127.0.0.1:7233"


def example(name: str) -> Inquiry:
    return Inquiry.model_validate_json((EXAMPLES / f"{name}.json").read_text())


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NoClient:
    """Stands for a client that must not be used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the client was used ({name})")


def test_workflow_id_is_per_conversation() -> None:
    inquiry = example("late-delivery")
    later = inquiry.model_copy(update={"id": "another-post"})
    assert workflow_id(inquiry) == "inquiry-x-1860000000000000003"
    assert workflow_id(later) == workflow_id(inquiry)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            WorkflowUpdateFailedError(
                ApplicationError(
                    "the reply is empty: write the text to send", type="ActionRejected"
                )
            ),
            "the reply is empty: write the text to send",
        ),
        (
            RPCError("workflow not found for ID: inquiry-x-9", RPCStatusCode.NOT_FOUND, b""),
            "no inquiry with id inquiry-x-9",
        ),
        (
            RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b""),
            "inquiry inquiry-x-9 is closed",
        ),
        (
            RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""),
            f"cannot reach Temporal at {ADDRESS} (is `careflow up` running?)",
        ),
        (
            RuntimeError("Failed client connect: Server connection error: tonic::transport"),
            f"cannot reach Temporal at {ADDRESS} (is `careflow up` running?)",
        ),
        (
            WorkflowQueryFailedError("the inquiry is still starting: its rules are loading"),
            "the inquiry is still starting: its rules are loading",
        ),
        (
            TimeoutError(),
            "inquiry inquiry-x-9 did not answer in time: is a careflow worker running?",
        ),
    ],
)
def test_temporal_errors_become_one_line(error: BaseException, expected: str) -> None:
    assert explain_error(error, "inquiry-x-9", ADDRESS) == expected


def test_unknown_errors_are_not_explained_away() -> None:
    assert explain_error(ValueError("bug"), "inquiry-x-9", ADDRESS) is None
    with pytest.raises(ValueError, match="bug"), explained(None, "inquiry-x-9"):
        raise ValueError("bug")
    missing = pytest.raises(CareflowError, match="no inquiry with id inquiry-x-9")
    with missing, explained(None, "inquiry-x-9"):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


def test_connecting_to_nothing_says_where_and_what_to_do() -> None:
    address = f"127.0.0.1:{closed_port()}"
    with pytest.raises(CareflowError) as raised:
        asyncio.run(
            open_client(Connection.of(Settings(temporal=TemporalSettings(address=address))))
        )
    assert str(raised.value) == f"cannot reach Temporal at {address} (is `careflow up` running?)"


def test_dropped_posts_start_nothing() -> None:
    result = asyncio.run(
        intake(
            cast(Client, NoClient()),
            "careflow",
            example("spam-giveaway"),
            load_ruleset(DEFAULT_PACK),
            customers=CUSTOMERS,
        )
    )
    assert result == IntakeResult(
        workflow_id=None, dropped=True, reason="spam", rule="drop-giveaway-spam"
    )


def test_memo_and_first_message() -> None:
    inquiry = example("private-dm").model_copy(update={"text": "x" * 500, "url": None})
    memo = memo_of(inquiry)
    assert memo == {"channel": inquiry.channel, "author": inquiry.author.handle, "text": "x" * 280}
    message = first_message(inquiry)
    assert (message.id, message.private, message.at) == (inquiry.id, True, inquiry.created_at)


def test_the_memo_stays_small_however_long_the_payloads_fields_are() -> None:
    post = example("question")
    huge = post.model_copy(
        update={
            "author": post.author.model_copy(update={"handle": "h" * 40_000}),
            "url": "https://x.com/" + "u" * 40_000,
        }
    )
    memo = memo_of(huge)
    assert memo["author"] == "h" * 100
    assert "url" not in memo  # a cut link would lead nowhere
    assert len(json.dumps(memo)) < 1_000
    assert memo_of(post)["url"] == post.url


def test_submit_names_the_file_on_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "1",\n  "text": }')
    result = runner.invoke(app, ["submit", str(broken)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {broken}:2:11: not valid JSON")
    invalid = tmp_path / "invalid.json"
    data = json.loads((EXAMPLES / "question.json").read_text())
    del data["author"]
    invalid.write_text(json.dumps(data))
    result = runner.invoke(app, ["submit", str(invalid)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {invalid}: author: Field required\n"
    result = runner.invoke(app, ["submit", str(tmp_path / "missing.json")])
    assert result.exit_code == 1
    assert "missing.json: cannot read file" in result.stderr


def test_commands_say_when_temporal_is_not_there() -> None:
    address = f"127.0.0.1:{closed_port()}"
    env = {"TEMPORAL_ADDRESS": address, "CAREFLOW_RULES": str(DEFAULT_PACK)}
    for args in (
        ["queue"],
        ["status", "inquiry-x-1"],
        ["submit", str(EXAMPLES / "question.json")],
        ["reply", "inquiry-x-1", "--agent", "Ana", "--text", "hi"],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, args
        assert result.stderr == (
            f"error: cannot reach Temporal at {address} (is `careflow up` running?)\n"
        )


def test_actions_need_an_agent() -> None:
    result = runner.invoke(
        app, ["reply", "inquiry-x-1", "--text", "hi"], env={"CAREFLOW_AGENT": None}
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: say who is acting: --agent NAME (or CAREFLOW_AGENT), or --token\n"
    )


def test_outbox_prints_deliveries_readably(tmp_path: Path) -> None:
    result = runner.invoke(app, ["outbox"], env={"CAREFLOW_HOME": str(tmp_path)})
    assert result.exit_code == 0
    assert "nothing sent yet" in result.stderr
    entry = {
        "key": "k",
        "id": "sandbox-1",
        "at": datetime.now(UTC).isoformat(),
        "kind": "reply",
        "channel": "x",
        "conversation_id": "c",
        "in_reply_to": "p",
        "to": "sam_k",
        "private": True,
        "text": "hi ^Ana",
    }
    (tmp_path / "outbox.jsonl").write_text(json.dumps(entry) + "\n")
    result = runner.invoke(app, ["outbox"], env={"CAREFLOW_HOME": str(tmp_path)})
    assert result.stdout.rstrip().endswith("reply        x → @sam_k (private): hi ^Ana")
    result = runner.invoke(app, ["outbox", "--json"], env={"CAREFLOW_HOME": str(tmp_path)})
    assert json.loads(result.stdout) == entry
    notification = {**entry, "kind": "notification", "to": "supervisors", "text": "breach"}
    assert outbox_line(notification).endswith("notification → supervisors: breach")


def test_relative_times() -> None:
    now = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    assert relative(now + timedelta(minutes=4, seconds=10), now) == "in 4m 10s"
    assert relative(now - timedelta(seconds=12), now) == "12s ago"
    assert relative(now + timedelta(days=1, hours=2, minutes=3), now) == "in 1d 2h"
