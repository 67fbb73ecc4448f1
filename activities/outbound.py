"""Every message careflow sends goes through one activity, ``deliver``, and a channel adapter.

The workflow decides *what* to send (a template and its variables, or an agent's text) and gives
each send an idempotency key (workflow id / step / sequence). The activity renders the template in
Jinja2's sandbox, adds the agent's signature, and hands the text to the channel adapter, which
must post at most once per key however often the activity is retried.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from careflow.engine.templates import TemplateRenderError, render_template

OutboundKind = Literal[
    "reply",
    "invitation",
    "reminder",
    "follow_up",
    "notification",
    "escalation",
    "chat_handoff",
    "chat_link",
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


class ChannelAdapter(Protocol):
    """Posts to a platform. Must be idempotent per ``outbound.key``."""

    name: str

    async def deliver(self, outbound: Outbound, text: str) -> Delivery: ...

    async def aclose(self) -> None:
        """Release connections when the worker stops."""
        ...


def compose(outbound: Outbound) -> str:
    """The final text: the agent's words or the rendered template, then the signature."""
    if outbound.template is not None:
        try:
            text = render_template(outbound.template, outbound.variables)
        except TemplateRenderError as error:
            raise ApplicationError(
                f"template {outbound.template_name!r}: {error}",
                type="TemplateRenderError",
                non_retryable=True,
            ) from None
    elif outbound.text is not None:
        text = outbound.text.strip()
    else:
        text = ""
    if outbound.signature:
        text = f"{text} ^{outbound.signature}"
    if not text and outbound.kind not in ("escalation", "chat_handoff"):
        raise ApplicationError(
            f"{outbound.kind} {outbound.key} has no text to send",
            type="EmptyMessage",
            non_retryable=True,
        )
    return text


class OutboundActivities:
    """The ``deliver`` activity, bound to the worker's channel adapter."""

    def __init__(self, adapter: ChannelAdapter) -> None:
        self.adapter = adapter

    @activity.defn(name="deliver")
    async def deliver(self, outbound: Outbound) -> Delivery:
        """Render, sign and post one message; a retry with the same key posts nothing new."""
        return await self.adapter.deliver(outbound, compose(outbound))
