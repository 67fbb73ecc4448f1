"""The types that cross between workflows and activities: what the workflow schedules and
what it gets back. Workflow code imports these and nothing else from ``activities``, so the
deterministic side never loads an adapter, a file or an HTTP client.

Names and field shapes are part of recorded histories: rename nothing here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from careflow.engine.messenger_feedback import FeedbackCard

# Activity type names as Temporal records them; the workflow schedules by these names.
LOAD_RULES = "load_rules"
DELIVER = "deliver"


class RulesSource(BaseModel):
    """A checked rule file as a workflow receives it."""

    model_config = ConfigDict(frozen=True)

    file: str
    name: str
    digest: str
    text: str
    # What loaded it (docs/audit.md): histories recorded before careflow kept these have "".
    careflow_version: str = ""  # the loading worker's careflow package version
    tzdata_version: str = ""  # the IANA tz release its calendars used, e.g. 2026f


OutboundKind = Literal[
    "reply",
    "invitation",
    "reminder",
    "follow_up",
    "notification",
    "escalation",
    "chat_handoff",
    "chat_link",
    "proactive_post",  # a public post of the brand's own (a trend's, once a supervisor approves)
]


class Outbound(BaseModel):
    """One message to deliver: to the customer, or to a notification target."""

    key: str  # idempotency key: workflow id / step / sequence
    kind: OutboundKind
    channel: str
    conversation_id: str
    in_reply_to: str  # platform id of the post this answers
    recipient: str  # the customer's handle
    private: bool = False
    text: str | None = None  # an agent's own words…
    template: str | None = None  # …or a template's source, rendered with ``variables``
    template_name: str | None = None
    variables: dict[str, Any] = {}
    signature: str | None = None  # the agent's name, appended to customer-facing agent replies
    target: str | None = None  # notification target name (kind notification/escalation)
    target_webhook: str | None = None  # as written in the rule file: a URL or ${ENV_VAR}
    transcript: list[dict[str, Any]] = []  # chat hand-off: the conversation so far
    conversation_kind: Literal["public", "private"] = "public"  # the inquiry's own kind
    long_replies: Literal["split", "private"] = "split"  # a public reply over the platform limit
    agent: str | None = None  # the agent on the inquiry (chat hand-off keeps them)
    recipient_id: str | None = None  # the customer's platform id (page-scoped on Meta)
    customer_in_private: bool = False  # the customer has written privately: a DM thread is open
    customer_last_at: AwareDatetime | None = None  # their latest message (Meta's 24-hour window)
    human: bool = False  # an agent's own words, not an automated message
    # A follow-up asking on Messenger with Meta's customer-feedback template instead of its text
    # (the "feedback-messenger-template" patch); the text stays, for the record.
    feedback: FeedbackCard | None = None


class Delivery(BaseModel):
    """What the adapter posted: its platform id and the exact text."""

    key: str
    id: str
    text: str
    duplicate: bool = False  # the key was already delivered (a retried activity): nothing posted
    private: bool | None = None  # where it went, when not where asked (a long reply moved to DM)
    parts: int = 1  # posts it took (a long reply split into a thread)
    link: str | None = None  # chat hand-off: the session the customer is sent to
    also: list[str] = []  # the platform ids of its other posts (thread parts, a public pointer)
