"""``careflow submit|message|status|queue|outbox``: put inquiries in and see where they stand."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client

from activities.adapters.sandbox import read_outbox
from careflow.channels import generic
from careflow.channels.common import PayloadError
from careflow.channels.times import clamp_time
from careflow.cli.common import fail, settings_from_env, with_client
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import RuleFileError, Ruleset, load_ruleset
from careflow.settings import Settings
from careflow.temporal import inquiries, intake
from careflow.temporal.customers import customer_ids
from careflow.temporal.inquiries import (
    BadQueueRequest,
    QueueFilters,
    decode_token,
    encode_token,
    list_open,
)
from careflow.temporal.intake import send_customer_message
from careflow.terminal import console, outbox_line, queue_view, status_view
from workflows.messages import CustomerMessage

inquiries_app = typer.Typer()


def read_inquiry(path: Path) -> Inquiry:
    """A normalized inquiry from a JSON file; every problem names the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"{path}: cannot read file: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{path}: not a UTF-8 text file")
    except json.JSONDecodeError as error:
        fail(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}")
    try:
        return generic.inquiry(data)  # the generic webhook's checks, ids included
    except PayloadError as error:
        for problem in error.problems or [{"field": "(top level)", "message": error.message}]:
            typer.echo(f"error: {path}: {problem['field']}: {problem['message']}", err=True)
        raise typer.Exit(1) from None


def read_rules(path: str) -> Ruleset:
    """The rule file for the firehose filter; its problems are printed as ``rules check`` does."""
    try:
        return load_ruleset(Path(path))
    except RuleFileError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1) from None


@inquiries_app.command("submit")
def submit_command(
    file: Annotated[Path, typer.Argument(help="A normalized inquiry, JSON.")],
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Rule file for this inquiry (a path the worker can read). Default: the "
            "worker's own file; the intake filter then reads CAREFLOW_RULES.",
        ),
    ] = None,
    now: Annotated[
        bool, typer.Option("--now", help="Restamp created_at to now (clocks start now).")
    ] = False,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="A new post, never a redelivery: when an inquiry has the file's ids already, "
            "the first free -2, -3, … is added to them (so a tour can be played again).",
        ),
    ] = False,
) -> None:
    """Submit an inquiry: dropped by the received rules, or started (or added) as a workflow."""
    inquiry = read_inquiry(file)
    if now:
        inquiry = inquiry.model_copy(update={"created_at": datetime.now(UTC)})
    inquiry, clamped = clamp_time(inquiry, datetime.now(UTC))
    if clamped is not None:
        typer.echo(
            f"note: created_at {clamped.created_at.isoformat()} is {clamped.reason}; "
            f"using now, {clamped.received_at.isoformat()}",
            err=True,
        )
    settings = settings_from_env()
    ruleset = read_rules(rules or settings.rules)
    rules_path = str(Path(rules).resolve()) if rules else None

    async def action(client: Client, settings: Settings) -> None:
        post = inquiry
        if new:
            post = inquiries.with_suffix(inquiry, await inquiries.fresh(client, [inquiry]))
        result = await intake.intake(
            client,
            settings.temporal.task_queue,
            post,
            ruleset,
            rules_path,
            customers=customer_ids(settings.customer_keys),  # unusable: one line
        )
        if result.dropped:
            typer.echo(f"dropped: {result.reason} (rule {result.rule})")
        elif result.duplicate:
            typer.echo(f"{result.workflow_id} (a redelivery: the inquiry already has this post)")
        else:
            typer.echo(result.workflow_id)

    with_client(action, settings)


@inquiries_app.command("message")
def message_command(
    inquiry_id: Annotated[str, typer.Argument(metavar="ID", help="The inquiry's workflow id.")],
    text: Annotated[str, typer.Argument(help="What the customer writes.")],
    private: Annotated[bool, typer.Option("--private", help="Sent as a private message.")] = False,
    message_id: Annotated[
        str | None,
        typer.Option("--message-id", help="Platform message id (repeat one to test dedup)."),
    ] = None,
) -> None:
    """Send a customer message to an inquiry, as the platform would (for trying things by hand)."""
    message = CustomerMessage(
        id=message_id or f"cli-{uuid.uuid4().hex[:12]}",
        text=text,
        private=private,
        at=datetime.now(UTC),
    )

    async def action(client: Client, settings: Settings) -> None:
        await send_customer_message(client, inquiry_id, message)
        typer.echo(f"message {message.id} sent to {inquiry_id}")

    with_client(action)


@inquiries_app.command("status")
def status_command(
    inquiry_id: Annotated[str, typer.Argument(metavar="ID", help="The inquiry's workflow id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Where an inquiry stands: step, values, clocks, messages and timeline."""

    async def action(client: Client, settings: Settings) -> None:
        status = await inquiries.status(client, inquiry_id)
        if as_json:
            typer.echo(status.model_dump_json(indent=2))
        else:
            console().print(status_view(status))

    with_client(action)


@inquiries_app.command("queue")
def queue_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    queue: Annotated[str | None, typer.Option("--queue", help="Only this queue.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only this category.")] = None,
    priority: Annotated[str | None, typer.Option("--priority", help="Only this priority.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    unassigned: Annotated[
        bool, typer.Option("--unassigned", help="Only inquiries nobody is assigned.")
    ] = False,
    page_size: Annotated[
        int | None, typer.Option("--page-size", help="At most this many (1-1000); then a token.")
    ] = None,
    page: Annotated[
        str | None, typer.Option("--page", help="The token a previous page printed.")
    ] = None,
) -> None:
    """Open inquiries across channels, the nearest deadline first (within a page)."""
    try:
        filters = QueueFilters(queue, category, priority, agent, channel, unassigned)
        token = decode_token(page) if page is not None else None
    except BadQueueRequest as error:
        fail(str(error))

    async def action(client: Client, settings: Settings) -> None:
        try:
            answer = await list_open(client, filters, page_size, token)
        except BadQueueRequest as error:
            fail(str(error))
        rows = answer.rows
        if as_json:
            typer.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
        elif not rows:
            typer.echo("no open inquiries" + (" match" if filters != QueueFilters() else ""))
        else:
            console().print(queue_view(rows))
        following = encode_token(answer.next_page_token)
        if following is not None:
            typer.echo(f"more: add --page {following}", err=True)

    with_client(action)


@inquiries_app.command("outbox")
def outbox_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON lines.")] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new deliveries (Ctrl-C stops).")
    ] = False,
) -> None:
    """What the sandbox adapter posted ($CAREFLOW_HOME/outbox.jsonl), oldest first."""
    path = settings_from_env(temporal_profile=False).outbox
    shown = 0
    try:
        while True:
            try:
                entries = read_outbox(path)
            except (OSError, json.JSONDecodeError) as error:
                if not follow:
                    fail(f"{path}: cannot read the outbox: {error}")
                entries = []  # a line being written right now: read it next time
            for entry in entries[shown:]:
                typer.echo(json.dumps(entry, ensure_ascii=False) if as_json else outbox_line(entry))
            shown = max(shown, len(entries))
            if not follow:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        return
    if not shown and not as_json:
        typer.echo(f"nothing sent yet ({path} is empty)", err=True)
