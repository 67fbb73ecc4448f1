"""``careflow ack|reply|invite-private|resolve|reopen|assign|escalate``: an agent's actions.

Each runs one Update on the inquiry. Options the workflow checks (an empty reply, a missing
resolution code, an unknown escalation target) are passed through as given, so the workflow's
validator answers with its own sentence rather than the CLI guessing its rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer
from pydantic import BaseModel
from temporalio.client import Client

from careflow.cli.common import fail, settings_from_env, with_client
from careflow.http.tokens import Caller, TokenError, load_tokens
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

Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CAREFLOW_TOKEN",
        help="An API token (or CAREFLOW_TOKEN): the action is recorded as its agent's, "
        "authenticated; with only --agent it is self-asserted.",
    ),
]
ReasonCode = Annotated[
    str | None,
    typer.Option("--code", help="A reason code (from the rule file's reasons list, if any)."),
]


def _caller(token: str) -> Caller:
    """Whose ``token`` is, among the API's tokens (CAREFLOW_API_TOKENS, …_FILE, else the file
    ``careflow up`` made in this home); acting needs the agent or supervisor role."""
    settings = settings_from_env()
    api, made = settings.api, settings.home / "api-tokens"
    if not api.tokens and not api.tokens_file and made.exists():  # the ones `careflow up` made
        api = replace(api, tokens_file=str(made))
    try:
        caller = load_tokens(api).caller(token)
    except TokenError as error:
        fail(f"the API tokens cannot be read: {error}")
    if caller is None:
        fail("that token is not one of the API's tokens (CAREFLOW_API_TOKENS)")
    if caller.role not in ("agent", "supervisor"):
        fail(f"the {caller.role} role may not act on inquiries")
    return caller


def _agent(agent: str | None, token: str | None) -> str:
    if token is not None:
        name = _caller(token).name
        if agent is not None and agent != name:
            fail(f"--agent {agent} is not the token's agent ({name}): give one or the other")
        return name
    if agent is None:
        fail("say who is acting: --agent NAME (or CAREFLOW_AGENT), or --token")
    return agent


def _run(inquiry_id: str, action: Action, request: BaseModel, token: str | None) -> None:
    # With a token the action is the token's person's, authenticated; with only --agent the
    # timeline marks it self-asserted.
    agent = str(getattr(request, "agent", ""))
    if token is not None:
        caller = _caller(token)
        actor = Actor(
            name=caller.name,
            role=caller.role,
            channel="cli",
            token_id=caller.token_id or None,
            authenticated=True,
        )
    else:
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
    token: Token = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Your words (default: the 'ack' template).")
    ] = None,
) -> None:
    """Acknowledge the inquiry publicly and take it."""
    request = AcknowledgeRequest(agent=_agent(agent, token), text=text)
    _run(inquiry_id, InquiryWorkflow.acknowledge, request, token)


@actions_app.command("reply")
def reply_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    text: Annotated[str, typer.Option("--text", help="The reply (your name is appended).")] = "",
    private: Annotated[bool, typer.Option("--private", help="Reply privately.")] = False,
    pending: Annotated[
        bool, typer.Option("--pending", help="You now wait on the customer (pauses resolve).")
    ] = False,
) -> None:
    """Reply to the customer."""
    request = ReplyRequest(agent=_agent(agent, token), text=text, private=private, pending=pending)
    _run(inquiry_id, InquiryWorkflow.reply, request, token)


@actions_app.command("invite-private")
def invite_private_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    template: Annotated[
        str | None, typer.Option("--template", help="Default: flow.privatize.template.")
    ] = None,
) -> None:
    """Invite the customer to continue in a private channel."""
    request = InvitePrivateRequest(agent=_agent(agent, token), template=template)
    _run(inquiry_id, InquiryWorkflow.invite_private, request, token)


@actions_app.command("resolve")
def resolve_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    code: Annotated[str, typer.Option("--code", help="Resolution code, e.g. refunded.")] = "",
    note: Annotated[str | None, typer.Option("--note", help="A note for the record.")] = None,
) -> None:
    """Mark the problem solved; the follow-up starts."""
    request = ResolveRequest(agent=_agent(agent, token), code=code, note=note)
    _run(inquiry_id, InquiryWorkflow.resolve, request, token)


@actions_app.command("reopen")
def reopen_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not solved.")] = "",
    code: ReasonCode = None,
) -> None:
    """Reopen a resolved inquiry."""
    request = ReopenRequest(agent=_agent(agent, token), reason=reason, code=code)
    _run(inquiry_id, InquiryWorkflow.reopen, request, token)


@actions_app.command("assign")
def assign_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    assignee: Annotated[str, typer.Option("--assignee", help="The agent to assign.")] = "",
    code: ReasonCode = None,
) -> None:
    """Give the inquiry to an agent."""
    request = AssignRequest(agent=_agent(agent, token), assignee=assignee, code=code)
    _run(inquiry_id, InquiryWorkflow.assign, request, token)


@actions_app.command("escalate")
def escalate_command(
    inquiry_id: InquiryId,
    agent: Agent = None,
    token: Token = None,
    to: Annotated[str, typer.Option("--to", help="supervisor, or chat (live chat).")] = "",
    reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
    code: ReasonCode = None,
) -> None:
    """Hand to a supervisor, or move to live chat with the same agent."""
    request = EscalateRequest(agent=_agent(agent, token), to=to, reason=reason, code=code)
    _run(inquiry_id, InquiryWorkflow.escalate, request, token)
