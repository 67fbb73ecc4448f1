"""What the inquiry sends, built from its state: pure, so the workflow only runs ``deliver``.

A ``Send`` says what to send (kind, who sends it, text or template, where); ``outbound`` turns it
into the activity's input, and ``delivered`` turns the activity's answer into the message the
record keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activities.types import Delivery, Outbound, OutboundKind
from careflow.engine.messenger_feedback import FeedbackCard
from careflow.engine.ruleset import Ruleset
from careflow.engine.templates import needed
from workflows.state import InquiryState, Message

# What the customer sees: these meet the reply clocks and carry the agent's signature.
CUSTOMER_FACING: frozenset[str] = frozenset(
    {"reply", "invitation", "reminder", "follow_up", "chat_link"}
)


@dataclass(frozen=True)
class Send:
    """One message to send; ``by`` is who the record names (an agent, ``rule:<name>``, ``flow``)."""

    kind: OutboundKind
    by: str
    text: str | None = None
    template_name: str | None = None
    private: bool = False
    human: bool = False
    signature: str | None = None
    target: str | None = None
    target_webhook: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    feedback: FeedbackCard | None = None  # Messenger's customer-feedback template instead


def key(workflow_id: str, state: InquiryState) -> str:
    """The idempotency key of the message numbered ``state.sequence``: retries post once.

    A conversation's later inquiry reuses the workflow id and counts from 1 again, so the first
    run's id goes in too: otherwise the adapters would take its messages for the earlier
    inquiry's, already sent. Inquiries started before that (no ``first_run_id``) keep their keys.
    """
    scope = f"{workflow_id}/{state.first_run_id}" if state.first_run_id else workflow_id
    return f"{scope}/{state.step}/{state.sequence}"


def build(
    send: Send, key: str, state: InquiryState, ruleset: Ruleset, *, lean: bool = True
) -> Outbound:
    """The ``deliver`` activity's input: the message, and what the adapter needs to place it
    (the platform ids to answer, the customer's handle for a mention). ``lean``: a template
    gets only the variables it reads, so the history's copy of the input holds no customer text
    the message does not show (inquiries started before the patch pass them all)."""
    inquiry, rule_file = state.inquiry, ruleset.rule_file
    variables: dict[str, Any] = {}
    template = rule_file.templates[send.template_name] if send.template_name else None
    if template is not None:
        variables = ruleset.template_variables(
            inquiry, state.values.values(), send.signature or state.agent
        )
        if lean:
            variables = needed(template, variables)
    return Outbound(
        key=key,
        kind=send.kind,
        channel=inquiry.channel,
        conversation_id=inquiry.conversation_id,
        in_reply_to=inquiry.id,
        recipient=inquiry.author.handle,
        private=send.private,
        text=send.text,
        template=template,
        template_name=send.template_name,
        variables=variables,
        signature=send.signature if send.kind in CUSTOMER_FACING else None,
        target=send.target,
        target_webhook=send.target_webhook,
        transcript=send.transcript,
        conversation_kind=inquiry.kind,
        long_replies=rule_file.flow.long_replies,
        agent=state.agent,
        recipient_id=inquiry.author.id,
        customer_in_private=state.private_at is not None,
        customer_last_at=customer_last_at(state),
        human=send.human,
        feedback=send.feedback,
    )


def customer_last_at(state: InquiryState) -> datetime | None:
    """When the customer last wrote: among the messages kept, or the earlier ones."""
    latest = [m.at for m in state.messages if m.direction == "in"]
    if state.earlier.customer_last_at is not None:
        latest.append(state.earlier.customer_last_at)
    return max(latest, default=None)


def delivered(
    send: Send, key: str, delivery: Delivery, state: InquiryState, at: datetime
) -> tuple[Message, str | None]:
    """The message as it went out, and why it went privately when the adapter moved it there
    (a DM conversation has no public side; a reply too long to post publicly went as a DM)."""
    private, moved = send.private, None
    if delivery.private is not None and delivery.private != send.private:
        private = delivery.private
        moved = (
            "the conversation is private"
            if state.inquiry.kind == "private"
            else "too long to post publicly"
        )
    message = Message(
        at=at,
        direction="out",
        private=private,
        text=delivery.text,
        by=send.by,
        kind=send.kind,
        id=delivery.id,
        key=key,
        link=delivery.link,
        also=delivery.also,
    )
    return message, moved


def notification(
    state: InquiryState, ruleset: Ruleset, target: str, template: str | None, by: str
) -> Send:
    """A message to a team's webhook: the template, or a one-line summary of the inquiry."""
    inquiry, text = state.inquiry, None
    if template is None:
        text = (
            f"{state.values.priority} {state.values.category} inquiry on "
            f"{inquiry.channel} by @{inquiry.author.handle}: {inquiry.url or inquiry.id}"
        )
    return Send(
        "notification",
        by,
        text=text,
        template_name=template,
        target=target,
        target_webhook=ruleset.rule_file.targets[target].webhook,
    )


def escalation(state: InquiryState, to: str, reason: str, by: str) -> Send:
    """The hand-off to a supervisor, or to live chat with the whole transcript."""
    transcript = [m.model_dump(mode="json") for m in state.messages] if to == "chat" else []
    return Send(
        "chat_handoff" if to == "chat" else "escalation",
        by,
        text=f"{reason} (agent: {state.agent or 'unassigned'})",
        target=to,
        transcript=transcript,
    )


def chat_link(state: InquiryState, link: str, by: str) -> Send:
    """The way into the live chat, sent privately to the customer; the same agent carries on."""
    with_whom = f" with {state.agent}" if state.agent else ""
    return Send(
        "chat_link",
        by,
        text=f"Let's continue this in a live chat{with_whom}: {link}",
        private=True,
        human=not by.startswith("rule:") and by != "careflow",
    )
