"""``careflow report``: response times, targets met and breaches, from search attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client

from careflow.audit.sla import collect, sla_report
from careflow.cli.audit import parse_since, sla_view
from careflow.cli.common import with_client
from careflow.cli.render import console
from careflow.config import Settings

report_app = typer.Typer()


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
