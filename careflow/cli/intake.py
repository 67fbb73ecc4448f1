"""``careflow intake explain``: what the webhook intake would make of one delivery's body,
offline: the same normalizers, echo detection, time clamping and firehose filter as
``POST /webhooks/<platform>`` (``careflow.http.webhooks.explain_body``), with no signature
and no Temporal."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from careflow.channels.common import PayloadError
from careflow.cli.common import fail, settings_from_env
from careflow.engine.ruleset import RuleFileError, load_ruleset
from careflow.http.webhooks import PLATFORMS, explain_body
from careflow.terminal import console, delivery_view

intake_app = typer.Typer(
    help="What careflow makes of a platform's webhook body.", no_args_is_help=True
)

EXPLAIN_HELP = """What careflow would make of one webhook body, event by event, with no
Temporal and no signature: the same code path as POST /webhooks/PLATFORM.

Each event is one of: inquiry (a customer's post; with the received rules' decision:
dropped, drop_reason, category, queue, priority), edit (a customer changed a message's text),
withdrawn (a customer unsent a message), echo (the brand's own post, recorded on its
inquiry), ignored (with the reason) or problem (an event careflow cannot read, with the
reason). Without Temporal, explain cannot know whether the conversation already has an open
inquiry: a post that would start one and a post that would reach the open one as a further
message are both `inquiry`; edits and unsent messages change the open inquiry's message, and
are ignored by the live intake when there is none."""


@intake_app.command("explain", help=EXPLAIN_HELP)
def explain_command(
    file: Annotated[str, typer.Argument(help="The body as the platform sent it, or - for stdin.")],
    platform: Annotated[
        str, typer.Option("--platform", help="The door it came to: x, meta or generic.")
    ],
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="Rule file for the received rules (default CAREFLOW_RULES)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for machines.")] = False,
) -> None:
    if platform not in PLATFORMS:
        fail(f"--platform {platform!r}: expected one of {', '.join(PLATFORMS)}", code=2)
    name = "stdin" if file == "-" else file
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        fail(f"{name}: cannot read: {error.strerror or error}")
    settings = settings_from_env(temporal_profile=False)
    rule_path = rules or Path(settings.rules)
    try:
        ruleset = load_ruleset(rule_path)
    except RuleFileError as error:
        first = error.problems[0] if error.problems else rule_path
        fail(f"{rule_path}: the rule file is not usable: {first}")
    except OSError as error:
        fail(f"{rule_path}: cannot read the rule file: {error.strerror or error}")
    try:
        events, clamps = explain_body(platform, raw, settings.brand, ruleset, datetime.now(UTC))
    except PayloadError as error:
        fail(f"{name}: the {platform} door would refuse it ({error.status}): {error.message}")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "platform": platform,
                    "events": events,
                    "clamped": [clamp.as_json() for clamp in clamps],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    out = console()
    out.print(delivery_view(events))
    for clamp in clamps:
        out.print(
            f"post {clamp.id}: created_at {clamp.created_at.isoformat()} is {clamp.reason}; "
            "the time received would be used",
            markup=False,
        )
