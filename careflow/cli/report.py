"""``careflow report``: response times, targets met and breaches, from search attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from temporalio.client import Client

from careflow.audit.readable import moment
from careflow.audit.sla import (
    DEFAULT_BY,
    DIMENSIONS,
    Figures,
    SlaReport,
    Teams,
    collect,
    collect_reviews,
    format_csat,
    format_qa,
    format_seconds,
    format_share,
    sla_report,
    teams_of,
)
from careflow.cli.audit import parse_since
from careflow.cli.common import fail, settings_from_env, with_client
from careflow.cli.inquiries import read_rules
from careflow.settings import Settings
from careflow.terminal import console, table

report_app = typer.Typer()


def sla_view(report: SlaReport) -> RenderableType:
    """The SLA report as tables: the total, then one row per group of each dimension."""
    grid = table(
        "group",
        "inquiries",
        "open",
        "resolved",
        "1st response p50",
        "p90",
        "resolution p50",
        "p90",
        "within internal",
        "within published",
        "breaches",
        "reopened",
        "CSAT 4-5 · mean · rated/asked",
        "QA averages",
    )

    def row(name: str, f: Figures) -> None:
        grid.add_row(
            escape(name),
            str(f.inquiries),
            str(f.open),
            str(f.resolved),
            format_seconds(f.first_response_median_seconds),
            format_seconds(f.first_response_p90_seconds),
            format_seconds(f.resolution_median_seconds),
            format_seconds(f.resolution_p90_seconds),
            format_share(f.within_internal_share),
            format_share(f.within_published_share),
            str(f.breaches),
            format_share(f.reopen_rate),
            format_csat(f),
            format_qa(f),
        )

    row("all inquiries", report.total)
    for dimension, groups in report.by.items():
        for name, group in groups.items():
            row(f"{dimension} {name}", group)
    since = f" since {moment(report.since)}" if report.since else ""
    return Group(f"[bold]Response times{since}[/]", grid)


def _dimensions(by: list[str] | None) -> tuple[str, ...]:
    """``--by`` values in the order given, each once (``--by agent,team`` works too)."""
    if not by:
        return DEFAULT_BY
    chosen: list[str] = []
    for value in by:
        for name in (part.strip() for part in value.split(",")):
            if name not in DIMENSIONS:
                fail(f"--by {name!r}: use one of {', '.join(DIMENSIONS)}")
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen)


def _teams(by: tuple[str, ...], rules: str | None) -> Teams:
    """The rule file's teams, read only when the report groups by team."""
    if "team" not in by:
        return Teams()
    ruleset = read_rules(rules or settings_from_env(temporal_profile=False).rules)
    return teams_of({name: team.agents for name, team in ruleset.rule_file.teams.items()})


@report_app.command("report")
def report_command(
    since: Annotated[
        str, typer.Option("--since", help="Inquiries started this recently, e.g. 7d, 24h.")
    ] = "7d",
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Group by channel, category, queue, agent or team (repeat, or comma-separate; "
            "default channel, category and queue).",
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules", help="The rule file whose teams: --by team uses ($CAREFLOW_RULES)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the report as CSV (one row per group).")
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with charts to FILE.")
    ] = None,
) -> None:
    """Inquiries overall, per group and per day: first response and resolution p50/p90, shares
    within the internal target and the published window, breaches, reopens, CSAT, QA averages
    per criterion; for agents and teams, inquiries handled and resolved."""
    since_at = parse_since(since)
    dimensions = _dimensions(by)
    teams = _teams(dimensions, rules)

    async def action(client: Client, settings: Settings) -> int:
        inquiries, reviews = (
            await collect(client, since_at),
            await collect_reviews(client, since_at),
        )
        report = sla_report(inquiries, since_at, dimensions, teams, reviews)
        if html is not None:
            from careflow.audit.sla_html import sla_html  # matplotlib: only when asked for

            html.write_text(sla_html(report), encoding="utf-8")
            typer.echo(f"wrote {html}")
        elif as_csv:
            from careflow.audit.sla_csv import sla_csv

            typer.echo(sla_csv(report), nl=False)
        elif as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            console().print(sla_view(report))
        return 0

    with_client(action)
