"""``careflow insights``: topics per segment (or channel, category) against the period before,
and the phrases rising that no topic covers yet."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from temporalio.client import Client

from careflow.audit.insights_html import insights_html, percent_change
from careflow.audit.readable import moment
from careflow.cli.common import fail, with_client
from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.engine.ruleset import RuleFileError, Ruleset, load_ruleset
from careflow.settings import Settings
from careflow.temporal.insights import ALL, Dimension, InsightsReport, insights
from careflow.terminal import console, table

insights_app = typer.Typer()


def insights_view(report: InsightsReport) -> RenderableType:
    """Topics, the grid by group, and emerging phrases, as tables."""
    topics = table("topic", "inquiries", "before", "change", "examples")
    for t in report.topics:
        topics.add_row(
            escape(t.topic),
            str(t.count),
            str(t.previous),
            percent_change(t.count, t.previous),
            escape(", ".join(t.examples)),
        )
    grid = table("topic", *report.groups)
    cells = {(c.topic, c.group): c for c in report.cells}
    for topic in [ALL, *(t.topic for t in report.topics)]:
        row = [cells.get((topic, g)) for g in report.groups]
        grid.add_row(
            escape(topic),
            *(f"{c.count} ({percent_change(c.count, c.previous)})" if c else "" for c in row),
        )
    phrases = table("emerging phrase", "inquiries", "before", "ratio", "examples")
    for p in report.phrases:
        phrases.add_row(
            escape(p.phrase), str(p.count), str(p.baseline), f"×{p.ratio}", ", ".join(p.examples)
        )
    head = (
        f"[bold]Insights since {moment(report.since)}[/]: {report.total} inquiries "
        f"({percent_change(report.total, report.previous_total)} on the period before)"
    )
    cost = f"{report.visibility_calls} visibility calls, {report.texts_read} post starts read"
    return Group(head, topics, f"[bold]By {report.by}[/]", grid, phrases, cost)


def _ruleset(settings: Settings) -> Ruleset:
    try:
        return load_ruleset(Path(settings.rules))
    except RuleFileError as error:
        fail(f"the rule file has problems (careflow rules check {settings.rules}):\n{error}")


@insights_app.command("insights")
def insights_command(
    since: Annotated[
        str,
        typer.Option(
            "--since", help="The period to look at, e.g. 7d, 24h; compared with the one before."
        ),
    ] = "7d",
    by: Annotated[
        str, typer.Option("--by", help="Group topics by segment, channel or category.")
    ] = "segment",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as an HTML page to FILE.")
    ] = None,
    phrases: Annotated[
        bool,
        typer.Option("--phrases/--no-phrases", help="Mine emerging phrases (reads post starts)."),
    ] = True,
) -> None:
    """What customers talk about: per topic and segment, counts and the change against the
    period before, with examples; and the phrases rising that no topic covers yet."""
    if not re.match(DURATION_PATTERN, since):
        fail(f"--since {since!r} is not a duration: use e.g. 7d, 12h, 30m")
    if by not in ("segment", "channel", "category"):
        fail(f"--by {by!r}: use segment, channel or category")
    period = parse_duration(since)
    dimension = cast(Dimension, by)

    async def action(client: Client, settings: Settings) -> int:
        ruleset = _ruleset(settings)
        report = await insights(
            client, ruleset, datetime.now(UTC), period, dimension, phrases=phrases
        )
        if html is not None:
            html.write_text(insights_html(report), encoding="utf-8")
            typer.echo(f"wrote {html}")
        elif as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            console().print(insights_view(report))
        return 0

    with_client(action)
