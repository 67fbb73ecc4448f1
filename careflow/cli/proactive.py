"""``careflow proactive list|approve|reject``: the drafts the trend watch made, and a
supervisor's decision on one."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from temporalio.client import Client

from careflow.cli.actions import Agent, Token, _agent
from careflow.cli.common import with_client
from careflow.settings import Settings
from careflow.temporal import proactive
from careflow.terminal import console, table
from workflows.proactive_types import ProactiveStatus

proactive_app = typer.Typer(help="Proactive posts the trend watch drafted.", no_args_is_help=True)
PostId = Annotated[str, typer.Argument(metavar="ID", help="The proactive post's workflow id.")]


def _said(status: ProactiveStatus) -> None:
    typer.echo(f"{status.id}: {status.status}")
    if status.post_url:
        typer.echo(f"posted: {status.post_url}")
    if status.reason:
        typer.echo(f"reason: {status.reason}")


@proactive_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each draft: id, trend, segment, status (awaiting, posted, rejected, expired, failed),
    its text and counts."""

    async def action(client: Client, settings: Settings) -> int:
        found = await proactive.list_proactive(client)
        if as_json:
            typer.echo(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
            return 0
        grid = table("id", "trend", "segment", "status", "inquiries", "usual", "text")
        for s in found:
            grid.add_row(
                escape(s.id),
                escape(s.trend),
                escape(s.segment),
                s.status,
                str(s.count),
                f"{s.baseline:g}",
                escape(s.text or s.draft),
            )
        console().print(grid)
        return 0

    with_client(action)


@proactive_app.command("approve")
def approve_command(
    post_id: PostId,
    text: Annotated[
        str | None, typer.Option("--text", help="Post this instead of the draft.")
    ] = None,
    agent: Agent = None,
    token: Token = None,
) -> None:
    """Post the draft (or --text) publicly, then reply to the open inquiries it covers."""
    by = _agent(agent, token)

    async def action(client: Client, settings: Settings) -> int:
        _said(await proactive.approve(client, post_id, by, text))
        return 0

    with_client(action)


@proactive_app.command("reject")
def reject_command(
    post_id: PostId,
    reason: Annotated[str, typer.Option("--reason", help="Why nothing is posted.")],
    agent: Agent = None,
    token: Token = None,
) -> None:
    """Post nothing, and record why."""
    by = _agent(agent, token)

    async def action(client: Client, settings: Settings) -> int:
        _said(await proactive.reject(client, post_id, by, reason))
        return 0

    with_client(action)
