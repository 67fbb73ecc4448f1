"""Every message careflow sends goes through one activity, ``deliver``, and a channel adapter.

The workflow decides *what* to send (a template and its variables, or an agent's text) and gives
each send an idempotency key (workflow id / step / sequence). The activity renders the template in
Jinja2's sandbox, adds the agent's signature, and hands the text to the channel adapter, which
must post at most once per key however often the activity is retried.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.adapters.base import ChannelAdapter
from activities.types import DELIVER, Delivery, Outbound
from careflow.engine.templates import TemplateRenderError, render_template
from careflow.engine.text_parts import signed


def compose(outbound: Outbound) -> str:
    """The final text: the agent's words or the rendered template, then the signature; for
    Messenger's customer-feedback template, its title (what the thread shows)."""
    if outbound.feedback is not None:
        return outbound.feedback.title
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
        text = signed(text, outbound.signature)
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

    @activity.defn(name=DELIVER)
    async def deliver(self, outbound: Outbound) -> Delivery:
        """Render, sign and post one message; a retry with the same key posts nothing new."""
        return await self.adapter.deliver(outbound, compose(outbound))
