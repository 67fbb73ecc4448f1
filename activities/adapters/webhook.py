"""Notification webhooks and the live-chat hand-off: messages for people, not for the customer.

Notifications (``kind == "notification"``) go to their target's webhook: ``target_webhook`` as
written in the rule file, an http(s) URL or ``${ENV_VAR}`` read from the worker's environment
when the message is sent; a notification without one, escalations, and chat hand-offs without a
chat service go to ``CAREFLOW_NOTIFY_WEBHOOK_URL``. Each is Slack-compatible JSON ``{"text": …}``,
signed ``X-Careflow-Signature: sha256=<hex HMAC-SHA256 of the body>`` with
``CAREFLOW_NOTIFY_WEBHOOK_SECRET`` when one is set. Webhook URLs are secrets: no error message
names one (it names the variable or the target).

A chat hand-off (``kind == "chat_handoff"``) with ``CAREFLOW_CHAT_URL`` set opens a live-chat
session instead: a JSON POST (key, channel, conversation, customer, agent, reason, transcript)
with an ``Idempotency-Key`` header, signed with ``CAREFLOW_CHAT_SECRET`` when set; the answer's
``{"id", "url"}`` become ``Delivery.id`` and ``Delivery.link``, which the workflow sends to the
customer. The service dedupes by that key, so a hand-off whose answer was lost opens no second
session.
"""

from __future__ import annotations

import json
import os
import re

import httpx

from activities.adapters.http import SIGNATURE_HEADER, call, key_id, rejected, sign
from activities.types import Delivery, Outbound
from careflow.engine.text_parts import HTTP_URL
from careflow.settings import PlatformSettings

WEBHOOK_KINDS = frozenset({"notification", "escalation", "chat_handoff"})
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


async def deliver_webhook(
    client: httpx.AsyncClient, settings: PlatformSettings, outbound: Outbound, text: str
) -> Delivery:
    """A notification, an escalation or a chat hand-off (a session when a chat service is set)."""
    if outbound.kind == "chat_handoff" and settings.chat_url:
        return await open_chat(client, settings, outbound, text, settings.chat_url)
    return await notify(client, settings, outbound, text)


def webhook_url(settings: PlatformSettings, outbound: Outbound) -> tuple[str, str]:
    """Where a notification, escalation or chat hand-off goes, and how errors name it."""
    written = outbound.target_webhook
    if outbound.kind == "notification" and written:
        target = outbound.target or "?"
        where = f"the webhook of target {target!r}"
        reference = ENV_REFERENCE.fullmatch(written.strip())
        if reference is not None:
            variable = reference.group(1)
            url = os.environ.get(variable, "").strip()
            if not url:
                raise rejected(
                    f"notification target {target!r}: its webhook variable {variable} is "
                    "not set in the worker's environment"
                )
            if not HTTP_URL.fullmatch(url):
                raise rejected(
                    f"notification target {target!r}: {variable} does not hold an http(s) URL"
                )
            return url, where
        if not HTTP_URL.fullmatch(written.strip()):
            raise rejected(
                f"notification target {target!r}: its webhook is neither an http(s) URL "
                "nor ${ENV_VAR}"
            )
        return written.strip(), where
    if not settings.notify_webhook_url:
        raise rejected(
            f"no notification webhook for this {outbound.kind}: set CAREFLOW_NOTIFY_WEBHOOK_URL"
        )
    return settings.notify_webhook_url, "the notification webhook"


async def notify(
    client: httpx.AsyncClient, settings: PlatformSettings, outbound: Outbound, text: str
) -> Delivery:
    """Slack-compatible ``{"text": …}``, signed; a webhook answers no id, so the key makes one."""
    url, where = webhook_url(settings, outbound)
    summary = text or f"careflow {outbound.kind}: {outbound.channel} {outbound.conversation_id}"
    raw = json.dumps({"text": summary}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Careflow-Key": outbound.key}
    if settings.notify_webhook_secret:
        headers[SIGNATURE_HEADER] = sign(settings.notify_webhook_secret, raw)
    await call(client, where, "POST", url, headers, raw)
    return Delivery(key=outbound.key, id=key_id("webhook", outbound.key), text=text)


async def open_chat(
    client: httpx.AsyncClient, settings: PlatformSettings, outbound: Outbound, text: str, url: str
) -> Delivery:
    """Opens a live-chat session; the service dedupes by ``Idempotency-Key``."""
    raw = json.dumps(
        {
            "key": outbound.key,
            "channel": outbound.channel,
            "conversation_id": outbound.conversation_id,
            "customer": outbound.recipient,
            "agent": outbound.agent,
            "reason": text,
            "transcript": outbound.transcript,
        },
        ensure_ascii=False,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": outbound.key,
        "X-Careflow-Key": outbound.key,
    }
    if settings.chat_secret:
        headers[SIGNATURE_HEADER] = sign(settings.chat_secret, raw)
    body = await call(client, "the chat service", "POST", url, headers, raw)
    session, link = body.get("id"), body.get("url")
    if not session or not isinstance(link, str) or not HTTP_URL.fullmatch(link):
        raise rejected("the chat service answered without a session id and an http(s) url")
    return Delivery(key=outbound.key, id=str(session), text=text, link=link)
