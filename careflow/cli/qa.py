"""``careflow qa queue|show|review|dispute|settle``: quality reviews of closed inquiries.

The CLI speaks to Temporal directly, as an operator with the cluster's access does; roles
(a ``reviewer`` or a ``supervisor`` scores, the reviewed agent disputes, a supervisor settles)
are the agent API's to enforce. The review workflow checks what it is given: every criterion
of the rubric scored, each on its scale, and a dispute only by the reviewed agent.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from temporalio.client import Client

from careflow.audit.readable import moment
from careflow.cli.common import fail, with_client
from careflow.settings import Settings
from careflow.temporal import qa
from careflow.terminal import console, table
from workflows.qa import DisputeRequest, QaReview, ScoreRequest, SettleRequest

qa_app = typer.Typer(help="Quality reviews: the queue, scoring, disputes and settlements.")

Inquiry = Annotated[str, typer.Argument(metavar="INQUIRY", help="The inquiry's workflow id.")]
Who = Annotated[
    str | None,
    typer.Option("--agent", envvar="CAREFLOW_AGENT", help="Who is acting (or CAREFLOW_AGENT)."),
]
Scores = Annotated[
    list[str] | None,
    typer.Option("--score", help="CRITERION=N, once per criterion of the rubric."),
]


def _who(agent: str | None) -> str:
    if not agent:
        fail("say who is acting: --agent NAME, or set CAREFLOW_AGENT")
    return agent


def _scores(pairs: list[str] | None) -> dict[str, int]:
    """``empathy=4`` pairs; a malformed one is an error naming it."""
    scores: dict[str, int] = {}
    for pair in pairs or []:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip() or not value.strip().isdigit():
            fail(f"--score {pair!r}: expected CRITERION=N, e.g. empathy=4")
        scores[name.strip()] = int(value)
    return scores


def review_view(review: QaReview) -> RenderableType:
    """One review: the inquiry, why it was sampled, the rubric and scores, and its steps."""
    given = review.input
    head = [
        f"[bold]review {escape(review.id)}[/]  ·  {review.status}",
        f"inquiry {escape(given.inquiry_id)} · agent {escape(given.agent or '-')} · "
        f"{given.channel} · {escape(given.category)} · closed {moment(given.closed_at)}",
        "sampled: " + escape("; ".join(given.reasons)),
        f"rubric {escape(given.rubric_version)}",
    ]
    grid = table("criterion", "score", "scale", "what to look for")
    for name, criterion in given.criteria.items():
        score = review.scores.get(name)
        grid.add_row(
            name, "-" if score is None else str(score), str(criterion.scale), criterion.description
        )
    steps = [
        f"{moment(e.at)}  {e.event} by {escape(e.by)}: {escape(e.detail)}" for e in review.events
    ]
    note = [f"note: {escape(review.note)}"] if review.note else []
    return Group(*head, grid, *note, *steps)


def _print(review: QaReview, as_json: bool) -> None:
    if as_json:
        typer.echo(review.model_dump_json(indent=2))
    else:
        console().print(review_view(review))


@qa_app.command("queue")
def queue_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the queue as JSON.")] = False,
    status: Annotated[
        str, typer.Option("--status", help="waiting (default), scored, disputed, or all.")
    ] = "waiting",
) -> None:
    """Reviews waiting for a reviewer (or in another state), oldest first."""

    async def run(client: Client, settings: Settings) -> None:
        found = await qa.queue(client, None if status == "all" else status)
        if as_json:
            typer.echo("[" + ",".join(r.model_dump_json() for r in found) + "]")
            return
        grid = table("inquiry", "agent", "channel", "category", "status")
        for r in found:
            grid.add_row(
                escape(r.inquiry_id),
                escape(r.agent or "-"),
                r.channel or "-",
                escape(r.category or "-"),
                r.status or "-",
            )
        console().print(grid if found else "no reviews waiting")

    with_client(run)


@qa_app.command("show")
def show_command(
    inquiry: Inquiry,
    as_json: Annotated[bool, typer.Option("--json", help="Print the review as JSON.")] = False,
) -> None:
    """One review: rubric, scores, note, and who did what when."""

    async def run(client: Client, settings: Settings) -> None:
        _print(await qa.show(client, inquiry), as_json)

    with_client(run)


@qa_app.command("review")
def review_command(
    inquiry: Inquiry,
    score: Scores = None,
    note: Annotated[str, typer.Option("--note", help="What the agent should hear.")] = "",
    agent: Who = None,
) -> None:
    """Score every criterion of the rubric (the reviewer is --agent / CAREFLOW_AGENT)."""
    request = ScoreRequest(reviewer=_who(agent), scores=_scores(score), note=note)

    async def run(client: Client, settings: Settings) -> None:
        _print(await qa.score(client, inquiry, request), False)

    with_client(run)


@qa_app.command("dispute")
def dispute_command(
    inquiry: Inquiry,
    reason: Annotated[str, typer.Option("--reason", help="Why the review is wrong.")] = "",
    agent: Who = None,
) -> None:
    """Dispute a scored review: only the reviewed agent may."""
    request = DisputeRequest(agent=_who(agent), reason=reason)

    async def run(client: Client, settings: Settings) -> None:
        _print(await qa.dispute(client, inquiry, request), False)

    with_client(run)


@qa_app.command("settle")
def settle_command(
    inquiry: Inquiry,
    note: Annotated[str, typer.Option("--note", help="The supervisor's decision.")] = "",
    score: Scores = None,
    agent: Who = None,
) -> None:
    """Settle a disputed review as a supervisor, changing any scores with --score."""
    request = SettleRequest(supervisor=_who(agent), note=note, scores=_scores(score))

    async def run(client: Client, settings: Settings) -> None:
        _print(await qa.settle(client, inquiry, request), False)

    with_client(run)
