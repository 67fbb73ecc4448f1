"""``careflow ack|reply|invite-private|resolve|reopen|assign|escalate``: an agent's actions.

Each runs one Update on the inquiry. Options the workflow checks (an empty reply, a missing
resolution code, an unknown escalation target) are passed through as given, so the workflow's
validator answers with its own sentence rather than the CLI guessing its rules.
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import BaseModel
from temporalio.client import Client

from careflow.cli.common import fail, with_client
from careflow.settings import Settings
from careflow.temporal.inquiries import Action, act
from workflows.actors import Actor
from workflows.inquiry import InquiryWorkflow
from workflows.messages import (
    AcknowledgeRequest,
    AssignRequest,
    EscalateRequest,
    InvitePrivateRequest,
    ReopenRequest,
    ReplyRequest,
    ResolveRequest,
)

actions_app = typer.Typer()

InquiryId = Annotated[str, typer.Argument(metavar="ID", help="The inquiry's workflow id.")]
Agent = Annotated[
    str | None,
    typer.Option("--agent", envvar="CAREFLOW_AGENT", help="Who is acting (or CAREFLOW_AGENT)."),
]

ReasonCode = Annotated[
    str | None,
    typer.Option("--code", help="A reason code (from the rule file's reasons list, if any)."),
]


def _agent(agent: str | None) -> str:
    if agent is None:
        fail("say who is acting: --agent NAME, or set CAREFLOW_AGENT")
    return agent


def _run(inquiry_id: str, action: Action, request: BaseModel) -> None:
    # The CLI knows only what --agent says: the timeline marks it self-asserted.
    agent = str(getattr(request, "agent", ""))
    actor = Actor(name=agent, channel="cli", authenticated=False)
    request = request.model_copy(update={"actor": actor})

    async def run(client: Client, settings: Settings) -> None:
        result = await act(client, inquiry_id, action, request)
        typer.echo(f"{result.detail} (step {result.step})")
        if result.text:
            typer.echo(f"sent: {result.text}")

    with_client(run)


@actions_app.command("ack")
def ack_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Your words (default: the 'ack' template).")
    ] = None,
) -> None:
    """Acknowledge the inquiry publicly and take it."""
    _run(
        inquiry_id, InquiryWorkflow.acknowledge, AcknowledgeRequest(agent=_agent(agent), text=text)
    )


@actions_app.command("reply")
def reply_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    text: Annotated[str, typer.Option("--text", help="The reply (your name is appended).")] = "",
    private: Annotated[bool, typer.Option("--private", help="Reply privately.")] = False,
    pending: Annotated[
        bool, typer.Option("--pending", help="You now wait on the customer (pauses resolve).")
    ] = False,
) -> None:
    """Reply to the customer."""
    request = ReplyRequest(agent=_agent(agent), text=text, private=private, pending=pending)
    _run(inquiry_id, InquiryWorkflow.reply, request)


@actions_app.command("invite-private")
def invite_private_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    template: Annotated[
        str | None, typer.Option("--template", help="Default: flow.privatize.template.")
    ] = None,
) -> None:
    """Invite the customer to continue in a private channel."""
    request = InvitePrivateRequest(agent=_agent(agent), template=template)
    _run(inquiry_id, InquiryWorkflow.invite_private, request)


@actions_app.command("resolve")
def resolve_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    code: Annotated[str, typer.Option("--code", help="Resolution code, e.g. refunded.")] = "",
    note: Annotated[str | None, typer.Option("--note", help="A note for the record.")] = None,
) -> None:
    """Mark the problem solved; the follow-up starts."""
    request = ResolveRequest(agent=_agent(agent), code=code, note=note)
    _run(inquiry_id, InquiryWorkflow.resolve, request)


@actions_app.command("reopen")
def reopen_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not solved.")] = "",
    code: ReasonCode = None,
) -> None:
    """Reopen a resolved inquiry."""
    request = ReopenRequest(agent=_agent(agent), reason=reason, code=code)
    _run(inquiry_id, InquiryWorkflow.reopen, request)


@actions_app.command("assign")
def assign_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    assignee: Annotated[str, typer.Option("--assignee", help="The agent to assign.")] = "",
    code: ReasonCode = None,
) -> None:
    """Give the inquiry to an agent."""
    request = AssignRequest(agent=_agent(agent), assignee=assignee, code=code)
    _run(inquiry_id, InquiryWorkflow.assign, request)


@actions_app.command("escalate")
def escalate_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    to: Annotated[str, typer.Option("--to", help="supervisor, or chat (live chat).")] = "",
    reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
    code: ReasonCode = None,
) -> None:
    """Hand to a supervisor, or move to live chat with the same agent."""
    request = EscalateRequest(agent=_agent(agent), to=to, reason=reason, code=code)
    _run(inquiry_id, InquiryWorkflow.escalate, request)
