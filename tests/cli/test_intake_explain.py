"""``careflow intake explain``: what careflow makes of a real webhook body, offline, through the
same code path as the webhook routes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.devtools.fake_webhooks import (
    Customer,
    meta_batch,
    meta_edit_event,
    meta_message_event,
)
from careflow.http.app import create_app
from tests.channels.payloads import PAGE
from tests.conftest import DEFAULT_PACK
from tests.http.test_webhook_intake import RULESET, SECRETS, never_connect, request, signed

CHANNELS = Path(__file__).parents[1] / "channels"
META = CHANNELS / "meta_payloads"
X = CHANNELS / "x_payloads"
EXAMPLES = Path(__file__).parents[2] / "examples"


def explain(*args: str, stdin: str | None = None) -> Any:
    result = CliRunner().invoke(
        app, ["intake", "explain", "--rules", str(DEFAULT_PACK), *args], input=stdin
    )
    return result


def kinds(path: Path, platform: str) -> list[str]:
    result = explain("--platform", platform, str(path), "--json")
    assert result.exit_code == 0, result.output
    return [event["kind"] for event in json.loads(result.stdout)["events"]]


@pytest.mark.parametrize(
    ("platform", "path", "expected"),
    [
        ("meta", META / "restfb-messaging-message-edits.json", ["edit"]),
        ("meta", META / "restfb-messaging-message-isdeleted.json", ["withdrawn"]),
        ("meta", META / "restfb-feed-post-add-25.json", ["inquiry"]),
        ("meta", META / "restfb-messaging-message-basic-echo.json", ["ignored"]),
        ("meta", META / "restfb-feed-comment-add-with-photo.json", ["echo"]),
        ("x", X / "reply.json", ["inquiry"]),
        ("x", X / "retweet.json", ["ignored"]),
    ],
)
def test_real_bodies_are_explained_with_their_kinds(
    platform: str, path: Path, expected: list[str]
) -> None:
    assert kinds(path, platform) == expected


def test_the_json_shape_of_a_new_inquiry() -> None:
    example = sorted((EXAMPLES / "inquiries").glob("*.json"))[0]
    result = explain("--platform", "generic", str(example), "--json")
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)["events"]
    assert set(event) >= {
        "kind",
        "channel",
        "private",
        "conversation_id",
        "author",
        "text",
        "attachments",
        "dropped",
        "drop_reason",
        "category",
        "queue",
        "priority",
    }
    assert set(event["author"]) == {"id", "handle", "name"}


def test_human_output_and_stdin() -> None:
    body = (META / "restfb-messaging-message-edits.json").read_text()
    result = explain("--platform", "meta", "-", stdin=body)
    assert result.exit_code == 0, result.output
    assert "1. edit" in result.stdout and "hello, world!" in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["--platform", "meta", "-"], "{not json", "stdin: the meta door would refuse it (400)"),
        (["--platform", "x", "/no/such/file.json"], None, "/no/such/file.json: cannot read"),
        (["--platform", "meta", "-"], '{"object": "whatsapp"}', "not a Meta webhook payload"),
        (["--platform", "tiktok", "-"], "{}", "expected one of generic, x, meta"),
    ],
)
def test_bad_input_is_one_line(args: list[str], stdin: str | None, says: str) -> None:
    result = explain(*args, stdin=stdin)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_the_webhook_route_and_explain_agree_on_a_mixed_batch(tmp_path: Path) -> None:
    """One code path: what explain calls ignored, the route ignores; what it calls a problem,
    the route lists as one (the rest needs Temporal, which explain never asks for)."""
    now = datetime.now(UTC)
    lena, omar = Customer("61001", "61001"), Customer("61002", "61002")
    events = [
        meta_message_event("m_real", lena, "my parcel never came", now, PAGE),
        meta_message_event("m_odd", omar, None, now, PAGE, unsupported=True),
        meta_message_event("m_broken", omar, None, now, PAGE),
        meta_edit_event("m_real", lena, "my parcel never arrived", now, PAGE),
        meta_message_event("m_gone", omar, None, now, PAGE, unsent=True),
        {"sender": {"id": lena.id}, "recipient": {"id": PAGE}, "timestamp": 1, "read": {}},
    ]
    body = meta_batch(events, now, account_id=PAGE).body
    body["entry"][0]["messaging"][2]["message"] = {"mid": "m_broken"}
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(body))
    result = explain("--platform", "meta", str(path), "--json")
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)["events"]
    assert [(e["kind"], e.get("id")) for e in explained] == [
        ("inquiry", "m_real"),
        ("edit", "m_real"),
        ("withdrawn", "m_gone"),
        ("ignored", "m_odd"),
        ("ignored", None),
        ("problem", "m_broken"),
    ]
    # The route, on the same body, without the events that need Temporal.
    for_route = dict(body)
    kept = [
        e
        for e in body["entry"][0]["messaging"]
        if "read" in e or e.get("message", {}).get("mid") in ("m_odd", "m_broken")
    ]
    for_route["entry"] = [{**body["entry"][0], "messaging": kept}]
    raw = json.dumps(for_route).encode()
    answer = asyncio.run(
        request(
            create_app(SECRETS, never_connect, RULESET),
            "POST",
            "/webhooks/meta",
            content=raw,
            headers=signed("/webhooks/meta", raw),
        )
    ).json()
    ignored = [e for e in explained if e["kind"] == "ignored"]
    assert [(i["id"], i["reason"]) for i in answer["ignored"]] == [
        (e["id"], e["reason"]) for e in ignored
    ]
    assert [p["message"].split(": ", 1)[1] for p in answer["problems"]] == [
        e["reason"].split(": ", 1)[1] for e in explained if e["kind"] == "problem"
    ]
