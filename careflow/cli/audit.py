"""``careflow audit export|replay|report``: what an auditor runs.

``export`` writes histories (by id or visibility query) to files the Temporal CLI and UI read;
``replay`` replays files or a query's histories against the current code and exits 1 on any
non-determinism; ``report`` tells one inquiry's story (text, JSON, or an HTML page).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from temporalio.client import Client, WorkflowHistory

from careflow.audit.export import export_runs, find_runs, visibility_query
from careflow.audit.files import HistoryFileError, history_files, read_history
from careflow.audit.readable import duration, moment
from careflow.audit.replay import ReplayOutcome, replay
from careflow.audit.report import InquiryReport, fetch_report
from careflow.audit.report_html import report_html
from careflow.cli.common import connection_for, fail, leave, settings_from_env, with_client
from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.settings import Settings
from careflow.temporal.codec import KeyConfigError, codec_from_settings
from careflow.temporal.connection import Connection
from careflow.terminal import console

audit_app = typer.Typer(help="Export, replay and report workflow histories.", no_args_is_help=True)

Query = Annotated[
    str | None,
    typer.Option("--query", help="A visibility query, e.g. \"CareCategory='billing'\"."),
]


def parse_since(value: str | None) -> datetime | None:
    """``7d`` as the instant seven days ago; a bad duration is a one-line error."""
    if value is None:
        return None
    if not re.match(DURATION_PATTERN, value):
        fail(f"--since {value!r} is not a duration: use e.g. 7d, 12h, 30m")
    return datetime.now(UTC) - parse_duration(value)


@audit_app.command("export")
def export_command(
    ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID]...", help="Workflow ids.")
    ] = None,
    query: Query = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only inquiries started this recently, e.g. 7d.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the histories to.")] = Path(
        "histories"
    ),
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help="Write payloads decrypted with the configured keys (the files then hold "
            "customer text in clear: keep them as carefully as the database).",
        ),
    ] = False,
) -> None:
    """Write workflow histories to OUT, one JSON file per run (Temporal CLI/UI format)."""
    since_at = parse_since(since)
    filter_ = visibility_query(ids or [], query, since_at)
    settings = settings_from_env()
    codec = None
    if decrypt:
        try:
            codec = codec_from_settings(settings.encryption)
        except KeyConfigError as error:
            fail(str(error))
        if codec is None:
            fail(
                "--decrypt needs the keys: set CAREFLOW_ENCRYPTION_KEYS or CAREFLOW_ENCRYPTION_KEY_FILE"
            )

    async def action(client: Client, settings: Settings) -> int:
        runs = await find_runs(client, filter_)
        missing = sorted(set(ids or []) - {run.workflow_id for run in runs})
        if missing:
            typer.echo(f"error: no inquiry with id {', '.join(missing)}", err=True)
            return 1
        with Progress(console=console(), transient=True) as progress:
            task = progress.add_task("exporting", total=len(runs))
            written = await export_runs(
                client, runs, out, lambda: progress.advance(task), decrypt_with=codec
            )
        typer.echo(
            f"exported {len(written)} histories to {out}" + (" (decrypted)" if codec else "")
        )
        return 0

    with_client(action, settings)


def _print_outcome(outcome: ReplayOutcome) -> None:
    if outcome.error is not None:
        typer.echo(f"FAIL {outcome.workflow_id} (run {outcome.run_id}): {outcome.error}")


async def _replay_and_tell(
    connection: Connection, histories: AsyncIterator[WorkflowHistory] | list[WorkflowHistory]
) -> int:
    """Replay, print each failure as it comes, then the summary; the exit code."""
    outcomes = []
    async for outcome in replay(connection, histories):
        _print_outcome(outcome)
        outcomes.append(outcome)
    return _summary(outcomes)


def _summary(outcomes: list[ReplayOutcome]) -> int:
    failed = [o for o in outcomes if o.error is not None]
    typer.echo(
        f"replayed {len(outcomes)} histories: {len(outcomes) - len(failed)} clean, "
        f"{len(failed)} non-deterministic"
    )
    return 1 if failed else 0


@audit_app.command("replay")
def replay_command(
    directory: Annotated[
        Path | None, typer.Argument(metavar="[DIR]", help="A folder of exported histories.")
    ] = None,
    query: Query = None,
) -> None:
    """Replay histories against the current workflow code; exit 1 on any non-determinism."""
    if (directory is None) == (query is None):
        fail("give a folder of histories, or --query (one of the two)")
    settings = settings_from_env(temporal_profile=query is not None)  # files need no Temporal
    connection = connection_for(settings)
    if directory is not None:
        if not directory.is_dir():
            fail(f"{directory}: no such folder")
        try:
            histories = [read_history(path) for path in history_files(directory)]
        except HistoryFileError as error:
            fail(str(error))
        if not histories:
            fail(f"{directory}: no *.json histories in it")

        # The replayer starts the SDK's runtime threads: leave as with a client (common.leave).
        leave(asyncio.run(_replay_and_tell(connection, histories)))

    async def action(client: Client, settings: Settings) -> int:
        filter_ = visibility_query([], query, None)

        async def fetched() -> AsyncIterator[WorkflowHistory]:
            async for history in client.list_workflows(filter_).map_histories():
                yield history

        return await _replay_and_tell(connection, fetched())

    with_client(action, settings, connection)


def table(*columns: str) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def report_view(report: InquiryReport) -> RenderableType:
    """The report as text for a terminal."""
    inquiry, outcome = report.inquiry, report.outcome
    head = [
        f"[bold]inquiry {escape(report.id)}[/]  ·  {outcome.state}"
        + (f": {escape(outcome.close_reason)}" if outcome.close_reason else ""),
        f"{inquiry.kind} post on {inquiry.channel} by @{escape(inquiry.author.handle)}, "
        f"{moment(inquiry.created_at)}" + (f"  {escape(inquiry.url)}" if inquiry.url else ""),
        f"  “{escape(inquiry.text)}”",
        f"ruleset {escape(report.ruleset['name'])} sha256 {report.ruleset['digest']}",
        f"category {report.category} · priority {report.priority} · queue {report.queue} · "
        f"windows {report.windows} · privatize {report.privatize}"
        + (f" · tags {', '.join(report.tags)}" if report.tags else ""),
        f"resolution {outcome.resolution_code or '-'} · reopened {outcome.reopens}x · "
        f"first response {duration(outcome.first_response_seconds)} · "
        f"resolved after {duration(outcome.resolution_seconds)}",
    ]
    if outcome.rating is not None:
        comment = f": {escape(outcome.rating.comment)}" if outcome.rating.comment else ""
        head.append(f"CSAT {outcome.rating.score}/{outcome.rating.scale}{comment}")
    head += [
        f"escalated to {e.to} by {escape(e.by)} at {moment(e.at)}: {escape(e.reason)}"
        for e in outcome.escalations
    ]
    clocks = table("clock", "started", "internal due", "published due", "verdict")
    for line in report.clocks:
        clocks.add_row(
            line.clock,
            moment(line.started_at),
            moment(line.internal_due),
            moment(line.published_due),
            line.verdict,
        )
    fired = table("at", "event", "rule", "why")
    for rule in report.fired:
        fired.add_row(moment(rule.at), rule.event, rule.rule, escape("; ".join(rule.why)))
    messages = table("at", "", "by", "kind", "text")
    for m in report.messages:
        kind = m.kind + (" (private)" if m.private else "")
        arrow = "←" if m.direction == "in" else "→"
        messages.add_row(moment(m.at), arrow, escape(m.by), kind, escape(m.text))
    return Group(
        *head,
        "",
        "[bold]Clocks[/]",
        clocks,
        "",
        "[bold]Rules that fired[/]",
        fired,
        "",
        "[bold]Messages[/]",
        messages,
    )


@audit_app.command("report")
def report_command(
    inquiry_id: Annotated[str, typer.Argument(metavar="ID", help="The inquiry's workflow id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as an HTML page to FILE.")
    ] = None,
) -> None:
    """One inquiry's story: post, ruleset, rules fired and why, messages, clocks, outcome."""

    async def action(client: Client, settings: Settings) -> int:
        report = await fetch_report(client, inquiry_id)
        if html is not None:
            html.write_text(report_html(report), encoding="utf-8")
            typer.echo(f"wrote {html}")
        elif as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            console().print(report_view(report))
        return 0

    with_client(action)
