"""Whether an agent action makes sense now: one pure function per update, no Temporal needed.

Each returns the sentence that refuses the action, or None to let it in. The sentences reach
agents as the update's failure (HTTP 409 bodies in the API), so they say what to do instead.

``state`` and ``ruleset`` are None while the inquiry is still starting (its rules are loading):
then only the request itself can be refused, and the workflow checks again once they are loaded.
Checks of the request alone come first, so an empty reply is refused at any moment.
"""

from __future__ import annotations

from careflow.engine.ruleset import Ruleset
from careflow.engine.text_parts import signed, x_thread_parts
from workflows.messages import (
    AcknowledgeRequest,
    AssignRequest,
    EscalateRequest,
    InvitePrivateRequest,
    ReopenRequest,
    ReplyRequest,
    ResolveRequest,
)
from workflows.state import InquiryState

ESCALATION_TARGETS = ("supervisor", "chat")


def not_open(state: InquiryState | None, agent: str) -> str | None:
    """The checks every action shares: someone is acting, and the inquiry can still change."""
    if not agent.strip():
        return "say which agent is acting (agent is empty)"
    if state is not None and state.step == "closed":
        return f"the inquiry is closed ({state.close_reason}): nothing can change it"
    return None


def acknowledge(
    state: InquiryState | None, ruleset: Ruleset | None, request: AcknowledgeRequest
) -> str | None:
    """Acknowledge once, with the agent's text or the rule file's ``ack`` template."""
    if refusal := not_open(state, request.agent):
        return refusal
    if state is None or ruleset is None:
        return None  # still starting: checked again once the rules are loaded
    clock = state.clocks.get("acknowledge")
    if clock is not None and clock.met_at is not None:
        return f"the inquiry was already acknowledged at {clock.met_at.isoformat()}"
    if not (request.text or "").strip() and "ack" not in ruleset.rule_file.templates:
        return "no text given and the rule file has no 'ack' template to send"
    return None


def reply(state: InquiryState | None, ruleset: Ruleset | None, request: ReplyRequest) -> str | None:
    """A reply needs text, and a public one on X no longer a thread than the rule file allows
    (``flow.max_reply_parts``): a 63 KB reply once became a 237-post thread."""
    if not request.text.strip():
        return "the reply is empty: write the text to send"
    if refusal := not_open(state, request.agent):
        return refusal
    if state is None or ruleset is None:
        return None  # still starting: checked again once the rules are loaded
    flow = ruleset.rule_file.flow
    inquiry = state.inquiry
    if request.private or inquiry.kind != "public" or inquiry.channel != "x":
        return None  # direct messages and Meta have limits of their own, not public threads
    if flow.long_replies != "split":
        return None
    # The text as the adapter posts it: the agent's words, then their signature.
    parts = x_thread_parts(signed(request.text.strip(), request.agent.strip()))
    if parts > flow.max_reply_parts:
        return (
            f"the reply would take {parts} posts on X; the limit is {flow.max_reply_parts} "
            "(flow.max_reply_parts): shorten it or send it privately"
        )
    return None


def invite_private(
    state: InquiryState | None, ruleset: Ruleset | None, request: InvitePrivateRequest
) -> str | None:
    """Invite only a public conversation, once at a time, before it is resolved, with a template
    the rule file has."""
    if refusal := not_open(state, request.agent):
        return refusal
    if state is None or ruleset is None:
        return None  # still starting: checked again once the rules are loaded
    if state.inquiry.kind == "private":
        return "this conversation is already private (it started as a direct message)"
    if state.private_at is not None:
        return f"the customer already wrote privately at {state.private_at.isoformat()}"
    if state.step == "privatize" and state.invited_at is not None:
        return (
            f"an invitation sent at {state.invited_at.isoformat()} is still waiting for an answer"
        )
    if state.step == "follow_up":
        return "the inquiry is resolved: reopen it first"
    template = request.template or ruleset.rule_file.flow.privatize.template
    templates = ruleset.rule_file.templates
    if template not in templates:
        return f"no template named {template!r}; the rule file has: {', '.join(templates)}"
    return None


def resolve(
    state: InquiryState | None, ruleset: Ruleset | None, request: ResolveRequest
) -> str | None:
    """Resolve with a code, once (a resolved inquiry is reopened first)."""
    if not request.code.strip():
        return "a resolution code is required, e.g. refunded or replaced"
    if refusal := not_open(state, request.agent):
        return refusal
    if state is not None and state.step == "follow_up":
        return f"the inquiry is already resolved (code {state.resolution_code}): reopen it first"
    return reason_code(ruleset, "resolve", request.code, "resolution code")


def reopen(
    state: InquiryState | None, ruleset: Ruleset | None, request: ReopenRequest
) -> str | None:
    """Only a resolved inquiry can be reopened."""
    if refusal := not_open(state, request.agent):
        return refusal
    if state is not None and state.step != "follow_up":
        return (
            f"the inquiry is not resolved (it is in {state.step}): "
            "only a resolved inquiry can be reopened"
        )
    return reason_code(ruleset, "reopen", request.code, "reason code")


def assign(
    state: InquiryState | None, ruleset: Ruleset | None, request: AssignRequest
) -> str | None:
    """Assign to someone, and to someone new."""
    if not request.assignee.strip():
        return "say who to assign the inquiry to"
    if refusal := not_open(state, request.agent):
        return refusal
    if state is not None and state.agent == request.assignee.strip():
        return f"the inquiry is already assigned to {state.agent}"
    return reason_code(ruleset, "assign", request.code, "reason code")


def escalate(
    state: InquiryState | None, ruleset: Ruleset | None, request: EscalateRequest
) -> str | None:
    """Escalate to a supervisor or to live chat, nowhere else."""
    if request.to not in ESCALATION_TARGETS:
        return f"cannot escalate to {request.to!r}: use supervisor or chat"
    if refusal := not_open(state, request.agent):
        return refusal
    return reason_code(ruleset, "escalate", request.code, "reason code")


def reason_code(ruleset: Ruleset | None, action: str, code: str | None, what: str) -> str | None:
    """When the rule file lists ``reasons.<action>``, the code must be one of them (free text
    goes beside it, in the note or reason); without a list any code, or none, will do."""
    codes = ruleset.rule_file.reasons.codes(action) if ruleset is not None else None
    if codes is None:
        return None
    given = (code or "").strip()
    if not given:
        return f"a {what} is required: one of {', '.join(codes)}"
    if given not in codes:
        return f"{given!r} is not a {what} of the rule file: use one of {', '.join(codes)}"
    return None
