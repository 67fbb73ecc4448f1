"""``careflow report``: response times, targets met and breaches, from search attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from temporalio.client import Client

from careflow.audit.readable import moment
from careflow.audit.sla import Figures, SlaReport, collect, format_seconds, format_share, sla_report
from careflow.cli.audit import parse_since, table
from careflow.cli.common import with_client
from careflow.settings import Settings
from careflow.terminal import console

report_app = typer.Typer()


def sla_view(report: SlaReport) -> RenderableType:
    """The SLA report as tables: one row per channel, category and queue, and the total."""
    grid = table(
        "group",
        "inquiries",
        "open",
        "1st response p50",
        "p90",
        "within internal",
        "within published",
        "breaches",
        "reopened",
    )

    def row(name: str, f: Figures) -> None:
        grid.add_row(
            escape(name),
            str(f.inquiries),
            str(f.open),
            format_seconds(f.first_response_median_seconds),
            format_seconds(f.first_response_p90_seconds),
            format_share(f.within_internal_share),
            format_share(f.within_published_share),
            str(f.breaches),
            format_share(f.reopen_rate),
        )

    row("all inquiries", report.total)
    for dimension, groups in report.by.items():
        for name, group in groups.items():
            row(f"{dimension} {name}", group)
    since = f" since {moment(report.since)}" if report.since else ""
    return Group(f"[bold]Response times{since}[/]  (CSAT: not collected)", grid)


@report_app.command("report")
def report_command(
    since: Annotated[
        str, typer.Option("--since", help="Inquiries started this recently, e.g. 7d, 24h.")
    ] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with charts to FILE.")
    ] = None,
) -> None:
    """Inquiries by channel, category and queue: first response p50/p90, shares within the
    internal target and the published window, breaches, reopen rate."""
    since_at = parse_since(since)

    async def action(client: Client, settings: Settings) -> int:
        report = sla_report(await collect(client, since_at), since_at)
        if html is not None:
            from careflow.audit.sla_html import sla_html  # matplotlib: only when asked for

            html.write_text(sla_html(report), encoding="utf-8")
            typer.echo(f"wrote {html}")
        elif as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            console().print(sla_view(report))
        return 0

    with_client(action)
