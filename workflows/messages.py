"""What crosses the inquiry workflow's boundary: its input, the signal, the updates, the result.

Plain pydantic models (the worker uses ``pydantic_data_converter``). Requests keep their fields
loosely typed on purpose: the update validators check them and answer with a sentence an agent
can read, instead of a payload-decoding error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from careflow.engine.post import Inquiry
from workflows.actors import Actor
from workflows.state import CustomerMessage as CustomerMessage  # the signal, re-exported
from workflows.state import InquiryState, InquiryStatus

WORKFLOW_NAME = "Inquiry"
DEFAULT_HISTORY_LIMIT = 10_000  # continue-as-new well before Temporal's 10,240-event warning


class InquiryInput(BaseModel):
    """How an inquiry workflow starts (and continues as new, carrying ``state``)."""

    model_config = ConfigDict(extra="forbid")

    inquiry: Inquiry
    rules_path: str | None = None  # None: the rule file the worker is configured with
    search_attributes: bool = True  # off only on servers without them (the time-skipping server)
    history_limit: int = DEFAULT_HISTORY_LIMIT
    state: InquiryState | None = None


class AcknowledgeRequest(BaseModel):
    """``acknowledge``: the agent takes the inquiry and answers publicly (text, or the ``ack`` template)."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    text: str | None = None


class ReplyRequest(BaseModel):
    """``reply``: an agent's message; ``pending`` means the agent now waits on the customer."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    text: str
    private: bool = False
    pending: bool = False


class InvitePrivateRequest(BaseModel):
    """``invite_private``: ask the customer to continue in a private channel."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    template: str | None = None  # default: flow.privatize.template


class ResolveRequest(BaseModel):
    """``resolve``: the problem is solved; the follow-up starts."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    code: str
    note: str | None = None


class ReopenRequest(BaseModel):
    """``reopen``: a resolved inquiry goes back to the resolve step."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    reason: str
    code: str | None = None  # a reason code, from the rule file's list when it has one


class AssignRequest(BaseModel):
    """``assign``: give the inquiry to an agent (whose signature goes on their replies)."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    assignee: str
    code: str | None = None  # a reason code, from the rule file's list when it has one


class EscalateRequest(BaseModel):
    """``escalate``: hand to a supervisor, or move to live chat with the same agent."""

    agent: str
    actor: Actor | None = None  # who, as the API, console or CLI knows them
    to: str
    reason: str | None = None
    code: str | None = None  # a reason code, from the rule file's list when it has one


class ActionResult(BaseModel):
    """What an agent action did, as the agent sees it."""

    step: str
    detail: str
    text: str | None = None  # the message as delivered (rendered, signed)


class InquiryResult(BaseModel):
    """The workflow's result at close: outcome, every clock's verdict, response times, timeline."""

    status: InquiryStatus
    reason: str
    resolution_code: str | None
    first_response_seconds: float | None
    resolution_seconds: float | None
    kind: Literal["closed", "dropped"] = "closed"
