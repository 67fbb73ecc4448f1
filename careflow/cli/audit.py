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
from temporalio.client import Client, WorkflowHistory

from careflow.audit.chains import MissingRun, missing_runs
from careflow.audit.erase import EraseRefused, erase_customer
from careflow.audit.export import export_runs, find_runs, visibility_query, with_whole_chains
from careflow.audit.facts import facts_of
from careflow.audit.files import HistoryFileError, load_histories, read_history
from careflow.audit.manifest import ManifestError
from careflow.audit.offline import OfflineReportError, offline_report
from careflow.audit.readable import duration, moment
from careflow.audit.redact import RedactError
from careflow.audit.replay import ReplayOutcome, replay
from careflow.audit.report import InquiryReport, fetch_report
from careflow.audit.report_html import report_html
from careflow.audit.signing import SigningKeyError, public_key, public_key_path, signing_key
from careflow.audit.verify import Verification, verify
from careflow.cli.common import connection_for, fail, leave, settings_from_env, with_client
from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.settings import Settings
from careflow.temporal.codec import KeyConfigError, codec_from_settings
from careflow.temporal.connection import Connection
from careflow.temporal.customers import customer_ids
from careflow.terminal import console, table
from workflows import engine_version

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
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Mask the customer's text, names, handles and personal data (decrypting with "
            "the configured keys first). Redacted histories do not replay.",
        ),
    ] = False,
) -> None:
    """Write workflow histories to OUT, one JSON file per run (Temporal CLI/UI format), and a
    manifest of their sha256 signed with the export key (see `careflow audit verify`)."""
    since_at = parse_since(since)
    filter_ = visibility_query(ids or [], query, since_at)
    settings = settings_from_env()
    try:
        key = signing_key(settings.signing_key_file)
    except SigningKeyError as error:
        fail(str(error))
    codec = None
    if decrypt or redact:
        try:
            codec = codec_from_settings(settings.encryption)
        except KeyConfigError as error:
            fail(str(error))
        if codec is None and decrypt:
            fail(
                "--decrypt needs the keys: set CAREFLOW_ENCRYPTION_KEYS or CAREFLOW_ENCRYPTION_KEY_FILE"
            )

    async def action(client: Client, settings: Settings) -> int:
        runs = await find_runs(client, filter_)
        missing = sorted(set(ids or []) - {run.workflow_id for run in runs})
        if missing:
            typer.echo(f"error: no inquiry with id {', '.join(missing)}", err=True)
            return 1
        if since_at is not None:
            runs = await with_whole_chains(client, runs)
        with Progress(console=console(), transient=True) as progress:
            task = progress.add_task("exporting", total=len(runs))
            try:
                written = await export_runs(
                    client,
                    runs,
                    out,
                    lambda: progress.advance(task),
                    decrypt_with=codec,
                    redact=redact,
                    sign_with=key,
                )
            except RedactError as error:
                typer.echo(f"error: {error}", err=True)
                return 1
        done = [word for word, on in (("decrypted", codec and decrypt), ("redacted", redact)) if on]
        typer.echo(
            f"exported {len(written)} histories to {out}"
            + (f" ({', '.join(done)})" if done else "")
            + f", signed manifest {out / 'manifest.json'}"
        )
        return 0

    with_client(action, settings)


def _print_outcome(outcome: ReplayOutcome) -> None:
    run = f"{outcome.workflow_id} (run {outcome.run_id})"
    if outcome.error is not None:
        typer.echo(f"FAIL {run}: {outcome.error}")
    for problem in outcome.tampered:
        typer.echo(f"TAMPERED {run}: {problem}")
    if outcome.redacted:
        typer.echo(f"REDACTED {run}: not replayed (its customer text is masked)")
    if outcome.locked_by:
        ids = ", ".join(repr(key_id) for key_id in outcome.locked_by)
        typer.echo(
            f"ENCRYPTED {run}: not replayed: sealed with key id {ids}, not configured here "
            "(set CAREFLOW_ENCRYPTION_KEYS or CAREFLOW_ENCRYPTION_KEY_FILE)"
        )
    if outcome.note is not None:
        typer.echo(f"note {run}: {outcome.note}")


async def _replay_and_tell(
    connection: Connection,
    histories: AsyncIterator[WorkflowHistory] | list[WorkflowHistory],
    missing: list[MissingRun] | None = None,
) -> int:
    """Replay, print each failure as it comes, then the summary; the exit code."""
    outcomes = []
    async for outcome in replay(connection, histories):
        _print_outcome(outcome)
        outcomes.append(outcome)
    for run in missing or []:
        typer.echo(f"MISSING {run}")
    return _summary(outcomes, missing or [])


def _summary(outcomes: list[ReplayOutcome], missing: list[MissingRun]) -> int:
    failed = [o for o in outcomes if o.error is not None]
    tampered = [o for o in outcomes if o.tampered]
    redacted = [o for o in outcomes if o.redacted]
    locked = [o for o in outcomes if o.locked_by]
    clean = [o for o in outcomes if o.clean]
    extra = [
        f"{len(items)} {word}"
        for items, word in (
            (tampered, "tampered"),
            (redacted, "redacted (not replayed)"),
            (locked, "encrypted with keys not configured (not replayed)"),
            (missing, "missing runs"),
        )
        if items
    ]
    typer.echo(
        f"replayed {len(outcomes)} histories: {len(clean)} clean, "
        f"{len(failed)} non-deterministic" + "".join(f", {e}" for e in extra)
    )
    return 1 if failed or tampered or missing else 0


def _load(place: Path) -> list[WorkflowHistory]:
    """The histories in a file or folder, warning (on stderr) about each file skipped."""
    if not place.exists():
        fail(f"{place}: no such file or folder")
    loaded = load_histories(place)
    for warning in loaded.skipped:
        typer.echo(f"warning: skipped {warning}", err=True)
    if not loaded.histories:
        fail(f"{place}: no workflow histories in it")
    return loaded.histories


@audit_app.command("replay")
def replay_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="[DIR|FILE]",
            help="A history file, or a folder of them (careflow or `temporal workflow show "
            "--output json` exports).",
        ),
    ] = None,
    query: Query = None,
) -> None:
    """Replay histories against the current workflow code and re-derive each one's rules
    digest; exit 1 on any non-determinism, tampered rules text, or a run missing from a
    continue-as-new chain."""
    if (directory is None) == (query is None):
        fail("give a history file or folder, or --query (one of the two)")
    settings = settings_from_env(temporal_profile=query is not None)  # files need no Temporal
    connection = connection_for(settings)
    if directory is not None:
        histories = _load(directory)
        missing = missing_runs(facts_of(history) for history in histories)
        # The replayer starts the SDK's runtime threads: leave as with a client (common.leave).
        leave(asyncio.run(_replay_and_tell(connection, histories, missing)))

    async def action(client: Client, settings: Settings) -> int:
        filter_ = visibility_query([], query, None)

        async def fetched() -> AsyncIterator[WorkflowHistory]:
            async for history in client.list_workflows(filter_).map_histories():
                yield history

        return await _replay_and_tell(connection, fetched())

    with_client(action, settings, connection)


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
        f"run by {engine_version.describe(report.ruleset)}",
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
    left_out = report.earlier.note(report.earlier.messages, "messages")
    if left_out:
        messages.add_row("", "", "", "", f"[italic]({escape(left_out)})[/]")
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
    inquiry_id: Annotated[
        str,
        typer.Argument(
            metavar="ID|FILE",
            help="The inquiry's workflow id, or an exported history file (read with no server).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as an HTML page to FILE.")
    ] = None,
) -> None:
    """One inquiry's story: post, ruleset, rules fired and why, messages, clocks, outcome."""

    def show(report: InquiryReport) -> None:
        if html is not None:
            html.write_text(report_html(report), encoding="utf-8")
            typer.echo(f"wrote {html}")
        elif as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            console().print(report_view(report))

    path = Path(inquiry_id)
    if path.is_file() or inquiry_id.endswith(".json"):
        settings = settings_from_env(temporal_profile=False)  # a file needs no Temporal
        try:
            history = read_history(path)
            report = asyncio.run(offline_report(history, connection_for(settings).converter))
        except (HistoryFileError, OfflineReportError) as error:
            fail(f"{path}: {error}" if isinstance(error, OfflineReportError) else str(error))
        show(report)
        return

    async def action(client: Client, settings: Settings) -> int:
        show(await fetch_report(client, inquiry_id))
        return 0

    with_client(action)


def _verification_view(result: Verification) -> None:
    for problem in result.problems:
        typer.echo(f"PROBLEM {problem}")
    for name, verdict in result.files:
        typer.echo(f"{verdict:<9} {name}")
    for run in result.missing_runs:
        typer.echo(f"MISSING {run}")
    if result.redacted:
        typer.echo("note: the export is redacted: its histories do not replay")
    counts = {v: sum(1 for _, found in result.files if found == v) for v in ("verified",)}
    typer.echo(
        f"{counts['verified']} of {len(result.files)} files verified"
        + ("" if result.ok else ": NOT VERIFIED")
    )


@audit_app.command("verify")
def verify_command(
    place: Annotated[
        Path,
        typer.Argument(metavar="DIR|FILE", help="An export folder, or one history file in one."),
    ],
    key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The exporter's public key (audit-signing.pub); default: this home's.",
        ),
    ] = None,
) -> None:
    """Check an export against its signed manifest: each file verified, modified, unsigned or
    missing, and its continue-as-new chains complete; exit 1 unless all verify."""
    if not place.exists():
        fail(f"{place}: no such file or folder")
    if key is None:
        settings = settings_from_env(temporal_profile=False)
        key = public_key_path(settings.signing_key_file)
        if not key.is_file():
            fail(f"no public key: give --public-key FILE (the exporter's {key.name})")
    try:
        result = verify(place, public_key(key))
    except (SigningKeyError, ManifestError) as error:
        fail(str(error))
    _verification_view(result)
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("erase")
def erase_command(
    customer: Annotated[
        str,
        typer.Option("--customer", metavar="CHANNEL:ID", help="The customer, e.g. x:1234567890."),
    ],
) -> None:
    """Delete a customer's closed inquiries (histories and visibility entries) and their
    delivery records; refused while one of their inquiries is open."""

    async def action(client: Client, settings: Settings) -> int:
        try:
            erased = await erase_customer(
                client,
                settings.temporal.namespace,
                customer,
                customers=customer_ids(settings.customer_keys, make=False),  # or one line
                deliveries=settings.deliveries,
                outbox=settings.outbox,
            )
        except EraseRefused as error:
            typer.echo(f"error: {error}", err=True)
            return 1
        for workflow_id, run_id in erased.runs:
            typer.echo(f"deleted history and visibility entry of {workflow_id} (run {run_id})")
        typer.echo(
            f"erased {customer}: {len(erased.runs)} runs, {erased.delivery_rows} delivery "
            f"records, {erased.outbox_lines} outbox lines"
        )
        return 0

    with_client(action)
