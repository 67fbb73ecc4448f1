"""The ``platform`` channel adapter: posts to X and Meta over HTTP, notifications to webhooks.

Where each message goes:

| channel | public | private |
| --- | --- | --- |
| ``x`` | ``POST /2/tweets`` replying to ``in_reply_to`` | a DM: ``POST /2/dm_conversations/with/{user id}/messages`` |
| ``facebook`` | ``POST /{comment}/comments`` on ``in_reply_to`` | on a public comment: Meta's Private Replies, ``POST /me/messages`` to ``recipient.comment_id = in_reply_to``; in a private conversation ``recipient.id = conversation_id`` |
| ``instagram`` | ``POST /{comment}/replies`` on ``in_reply_to`` | as ``facebook`` |
| ``messenger`` | (none: a Messenger conversation is private) | ``POST /me/messages`` to ``recipient.id = conversation_id`` (the customer's PSID) |

A private conversation has no public side: whatever its ``private`` flag says, a message in one
goes privately, and the ``Delivery`` says so (``private=True``).

This module routes and keeps deliveries at most once; the rest is in its neighbours: ``x`` and
``meta`` (each platform's posts, limits and read-backs), ``webhook`` (notifications and the
live-chat hand-off), ``http`` (one request, failures as
``DeliveryRejected``/``PlatformUnavailable``/``PlatformRateLimited``), ``record`` (intents and
delivered keys), ``posting`` (each post at most once) and ``reconcile`` (finding an earlier
attempt's post).

Idempotency: neither platform takes an idempotency key, so the adapter keeps its own record in
``$CAREFLOW_HOME/deliveries.sqlite3`` (key, platform id, when, a chat session's link; never the
text): an intent before each post, the delivery after the platform's 2xx. A delivery that takes
several posts records each under ``<key>#<n>`` (``<key>#pointer`` for a DM's public pointer), so
a retry after part 2 of 3 posts only part 3. A retry that finds an intent without a delivery
(the worker died, or the answer was lost, after the request left) first reads the brand's own
posts back from the platform and records the one it finds (``posting``, ``reconcile``); only
when the platform refuses to be read (a token without read access) does it post again, with a
warning. The chat service takes the key (``Idempotency-Key``), so a hand-off needs no look-up;
a Slack-style notification webhook neither takes a key nor can be read: a retry after a lost
answer may notify twice (a team channel, not a customer).

Webhook and chat URLs are secrets, and httpx's request log prints URLs: it is kept at WARNING.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx

from activities.adapters.http import HTTP_TIMEOUT, rejected
from activities.adapters.meta import META_CHANNELS, MetaPoster
from activities.adapters.posting import moved
from activities.adapters.record import DeliveryRecord
from activities.adapters.webhook import WEBHOOK_KINDS, deliver_webhook
from activities.adapters.x import XPoster
from activities.types import Delivery, Outbound
from careflow.settings import PlatformSettings, TelemetrySettings
from careflow.telemetry import trace_http

log = logging.getLogger("careflow.activities.platform")


class PlatformAdapter:
    """Posts to the real platforms (or the fake one), at most once per key as far as it knows."""

    name = "platform"

    def __init__(
        self,
        settings: PlatformSettings,
        deliveries: Path,
        telemetry: TelemetrySettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = HTTP_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry or TelemetrySettings()
        self.timeout = timeout
        self.record = DeliveryRecord(deliveries)
        self.x = XPoster(settings, self.record)
        self.meta = MetaPoster(settings, self.record)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        # httpx logs every request's URL at INFO; webhook and chat URLs are secrets.
        quiet = logging.getLogger("httpx")
        if quiet.getEffectiveLevel() < logging.WARNING:
            quiet.setLevel(logging.WARNING)
        # Meta retires each Graph version on a date: say which one this worker speaks.
        base = settings.meta_graph_base.split("?", 1)[0]
        log.info(
            "Meta Graph API %s at %s",
            settings.meta_graph_version or "(no version in the URL: the app's default)",
            base.rsplit("/", 1)[0] if settings.meta_graph_version else base,
        )

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (tests run several loops in one process)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            client = httpx.AsyncClient(
                timeout=self.timeout, transport=self._transport, follow_redirects=False
            )
            self._client = trace_http(
                client, self.settings, self.telemetry
            )  # a span per call when traces are on
            self._loop = loop
            self._locks = {}
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        client = self._http()
        lock = self._locks.setdefault(outbound.key, asyncio.Lock())
        try:
            async with lock:  # two attempts of one key in this worker: the second sees the first
                known = self.record.entry(outbound.key)
                if known is not None:
                    return self._with_every_post(self._again(outbound, text, *known))
                delivery = await self._post(client, outbound, text)
                self.record.add(
                    outbound.key, delivery.id, outbound.channel, outbound.kind, delivery.link
                )
                if self.record.all_found(outbound.key):  # an earlier attempt posted it all
                    delivery = delivery.model_copy(update={"duplicate": True})
                return self._with_every_post(delivery)
        finally:
            if not lock.locked():
                self._locks.pop(outbound.key, None)

    def _with_every_post(self, delivery: Delivery) -> Delivery:
        """The delivery with the ids of its other posts (thread parts, the public pointer), so
        the workflow can tell its own posts from the brand's native replies when the platform
        echoes them back."""
        others = [id for id in self.record.parts(delivery.key).values() if id != delivery.id]
        return delivery.model_copy(update={"also": others}) if others else delivery

    def _again(self, outbound: Outbound, text: str, id: str, link: str | None) -> Delivery:
        """What a key already delivered was, rebuilt from the record: nothing is posted."""
        parts = self.record.parts(outbound.key)
        pointed = "pointer" in parts
        return Delivery(
            key=outbound.key,
            id=id,
            text=text,
            duplicate=True,
            private=True if pointed else moved(outbound),
            parts=max(1, sum(1 for suffix in parts if suffix.isdigit())),
            link=link,
        )

    async def _post(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        if outbound.kind in WEBHOOK_KINDS:
            return await deliver_webhook(client, self.settings, outbound, text)
        if outbound.kind == "proactive_post":  # the brand's own post: an X post, a Page post
            if outbound.channel == "x":
                return await self.x.post_public(client, outbound, text)
            if outbound.channel == "facebook":
                return await self.meta.page_post(client, outbound, text)
        if outbound.channel == "x":
            return await self.x.deliver(client, outbound, text)
        if outbound.channel in META_CHANNELS:
            return await self.meta.deliver(client, outbound, text)
        raise rejected(
            f"the platform adapter cannot post to channel {outbound.channel!r}: "
            "it knows x, facebook, instagram and messenger"
        )
