"""``careflow rules whatif``'s work between parsing and printing: read the inquiries, run them,
show the report, apply the gates. The command itself is declared in ``careflow.cli.rules``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from temporalio.client import Client

from careflow.cli.common import connection_for, fail, leave, settings_from_env, with_client
from careflow.engine.ruleset import Ruleset
from careflow.errors import CareflowError
from careflow.settings import Settings
from careflow.terminal import console
from careflow.whatif.fast import run_fast
from careflow.whatif.full import run_full
from careflow.whatif.gate import Gate, GateError, parse_gate
from careflow.whatif.html import report_html
from careflow.whatif.recorded import Recorded
from careflow.whatif.report import Report
from careflow.whatif.sources import SourceError, from_folder, from_server
from careflow.whatif.view import report_view

GATE_FAILED = 3  # distinct from errors (1) and usage mistakes (2), for CI logs


@dataclass(frozen=True)
class WhatIf:
    """What the command was asked to do."""

    rules: Ruleset
    baseline: Ruleset | None
    full: bool
    parallel: int
    as_json: bool
    html: Path | None
    gates: list[Gate]


def gates_or_exit(expressions: list[str]) -> list[Gate]:
    try:
        return [parse_gate(text) for text in expressions]
    except GateError as error:
        fail(str(error), code=2)


async def _run(job: WhatIf, inquiries: list[Recorded]) -> Report:
    if not job.full:
        return run_fast(job.rules, job.baseline, inquiries)
    with Progress(
        TextColumn("re-running inquiries"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(),
        transient=True,
        disable=job.as_json,
    ) as progress:
        task = progress.add_task("whatif", total=len(inquiries))
        return await run_full(
            job.rules,
            job.baseline,
            inquiries,
            parallel=job.parallel,
            advance=lambda: progress.advance(task),
        )


def _show(job: WhatIf, report: Report) -> int:
    """Print or write the report; the exit code its gates give."""
    if job.html is not None:
        job.html.write_text(report_html(report), encoding="utf-8")
        typer.echo(f"wrote {job.html}", err=job.as_json)
    if job.as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    elif job.html is None:
        console().print(report_view(report))
    failed = [gate for gate in job.gates if gate.fails(report)]
    for gate in failed:
        typer.echo(f"fail-if: {gate.describe(report)}", err=True)
    return GATE_FAILED if failed else 0


def whatif_from_folder(job: WhatIf, directory: Path) -> None:
    """The inquiries exported under ``directory``; needs no Temporal server for the fast path."""
    settings = settings_from_env(temporal_profile=False)
    converter = connection_for(settings).converter

    async def main() -> int:
        try:
            inquiries = await from_folder(directory, converter)
        except SourceError as error:
            fail(str(error))
        return _show(job, await _run(job, inquiries))

    try:
        code = asyncio.run(main())
    except CareflowError as error:  # the test server is not installed
        fail(str(error))
    if job.full:
        leave(code)  # the test server's client started the SDK's runtime threads (common.leave)
    raise typer.Exit(code)


def whatif_from_server(job: WhatIf, query: str | None, since: datetime) -> None:
    """The inquiries the server started since ``since`` (matching ``query``)."""
    settings = settings_from_env()
    connection = connection_for(settings)

    async def action(client: Client, settings: Settings) -> int:
        try:
            inquiries = await from_server(client, connection.converter, query, since)
        except SourceError as error:
            typer.echo(f"error: {error}", err=True)
            return 1
        if not inquiries:
            typer.echo("error: no inquiry matched: widen --since or --query", err=True)
            return 1
        return _show(job, await _run(job, inquiries))

    with_client(action, settings, connection)
