"""``careflow rules check|explain|hours|whatif``: the ops engineer's tools for rule files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from careflow.cli.audit import parse_since
from careflow.cli.common import fail
from careflow.cli.whatif import WhatIf, gates_or_exit, whatif_from_folder, whatif_from_server
from careflow.engine.checker import check_file, rule_files_under
from careflow.engine.explain import explain, format_explanation
from careflow.engine.fields import EVENTS, FIELDS, FieldType
from careflow.engine.hours_text import hours_text
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import RuleFileError, Ruleset, load_ruleset
from careflow.engine.suggest import did_you_mean

rules_app = typer.Typer(help="Check, explain and publish rule files.", no_args_is_help=True)


@rules_app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders of *.yaml files.")],
) -> None:
    """Validate rule files: exit 0 when all are valid, else one PATH:LINE:COL line per problem."""
    files = list(rule_files_under(paths))
    failed = False
    for path in files:
        if not path.exists():
            typer.echo(f"{path}:1:1: no such file", err=False)
            failed = True
            continue
        result = check_file(path)
        for problem in result.problems:
            typer.echo(str(problem))
        failed = failed or bool(result.problems)
    if not files:
        typer.echo("no rule files found", err=True)
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(1)
    typer.echo(f"{len(files)} rule file{'s' if len(files) != 1 else ''} OK", err=True)


def _load_or_exit(path: Path) -> Ruleset:
    try:
        return load_ruleset(path)
    except RuleFileError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


def _inquiry_or_exit(path: Path) -> Inquiry:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        typer.echo(f"{path}: cannot read file: {error.strerror}", err=True)
        raise typer.Exit(1) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f"{error.lineno}:{error.colno}: " if isinstance(error, json.JSONDecodeError) else ""
        typer.echo(f"{path}:{where}not valid JSON: {error}", err=True)
        raise typer.Exit(1) from None
    try:
        return Inquiry.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
            typer.echo(f"{path}: {where}: {detail['msg']}", err=True)
        raise typer.Exit(1) from None


def _fields_or_exit(pairs: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in FIELDS:
            hint = did_you_mean(name, FIELDS) if sep else ""
            typer.echo(f"--field {pair!r}: expected NAME=VALUE with a known field{hint}", err=True)
            raise typer.Exit(2)
        if FIELDS[name].type in (FieldType.STRING, FieldType.CHOICE):
            fields[name] = raw  # text as written: a rating's message may well be "5"
            continue
        try:
            fields[name] = json.loads(raw)
        except json.JSONDecodeError:
            fields[name] = raw
    return fields


@rules_app.command("explain")
def explain_command(
    rules: Annotated[Path, typer.Option("--rules", help="The rule file.")],
    inquiry: Annotated[Path, typer.Option("--inquiry", help="A normalized inquiry, JSON.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    event: Annotated[str, typer.Option("--event", help="The event to evaluate.")] = "received",
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="A value the event carries, NAME=VALUE, e.g. message.text='still broken' "
            "or clock=acknowledge (repeatable; VALUE is read as JSON when it parses).",
        ),
    ] = None,
) -> None:
    """Show which rules fire on a sample post, what they decide and when its clocks fall due."""
    if event not in EVENTS:
        hint = did_you_mean(event, EVENTS)
        typer.echo(f"unknown event {event!r}{hint}; use one of: {', '.join(EVENTS)}", err=True)
        raise typer.Exit(2)
    fields = _fields_or_exit(field or [])
    report = explain(_load_or_exit(rules), _inquiry_or_exit(inquiry), event, fields)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_explanation(report))


@rules_app.command("hours")
def hours_command(
    rules: Annotated[Path, typer.Option("--rules", help="The rule file.")],
) -> None:
    """Print the published hours and response windows, ready for a profile bio."""
    typer.echo(hours_text(_load_or_exit(rules)))


@rules_app.command("whatif")
def whatif_command(
    rules: Annotated[Path, typer.Option("--rules", help="The edited rule file.")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="Compare with this file (default: the rules each inquiry ran with)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Inquiries the server started this recently, e.g. 7d."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query", help="With --since: a visibility query, e.g. \"CareQueue='billing'\"."
        ),
    ] = None,
    histories: Annotated[
        Path | None,
        typer.Option("--histories", help="A folder of exported histories (careflow audit export)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Re-run each inquiry as a workflow on the time-skipping test server, people's "
            "messages and actions at their original offsets (slower; every clock and message).",
        ),
    ] = False,
    parallel: Annotated[
        int, typer.Option("--parallel", min=1, help="With --full: test servers run at once.")
    ] = min(4, os.cpu_count() or 1),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as an HTML page to FILE.")
    ] = None,
    fail_if: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-if",
            help="Exit 3 when this holds, e.g. 'breaches.published > 0' or 'drops.gained > 5%' "
            "(repeatable; docs/rules.md lists the metrics).",
        ),
    ] = None,
) -> None:
    """What an edited rule file would have done to past inquiries, before it ships."""
    if (since is None) == (histories is None):
        fail("give --since (inquiries on the server) or --histories DIR (exported files)", 2)
    if query is not None and since is None:
        fail("--query goes with --since", 2)
    if as_json and html is not None:
        fail("--json and --html: choose one", 2)
    job = WhatIf(
        rules=_load_or_exit(rules),  # file:line:col errors, and nothing runs
        baseline=_load_or_exit(baseline) if baseline is not None else None,
        full=full,
        parallel=parallel,
        as_json=as_json,
        html=html,
        gates=gates_or_exit(fail_if or []),
    )
    if histories is not None:
        whatif_from_folder(job, histories)
    since_at = parse_since(since)
    assert since_at is not None
    whatif_from_server(job, query, since_at)
