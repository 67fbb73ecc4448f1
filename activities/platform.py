"""The ``platform`` channel adapter: posts to X and Meta over HTTP, notifications to a webhook.

Where each message goes:

| channel | public | private |
| --- | --- | --- |
| ``x`` | ``POST /2/tweets`` replying to ``in_reply_to`` | a DM: ``POST /2/dm_conversations/with/{user id}/messages``, the id looked up from the handle with ``GET /2/users/by/username/{handle}`` |
| ``facebook`` | ``POST /{comment}/comments`` on ``in_reply_to`` | ``POST /me/messages`` to ``recipient.id = conversation_id`` |
| ``instagram`` | ``POST /{comment}/replies`` on ``in_reply_to`` | ``POST /me/messages`` to ``recipient.id = conversation_id`` |

Notifications, escalations and chat hand-offs go to ``CAREFLOW_NOTIFY_WEBHOOK_URL`` as
Slack-compatible JSON ``{"text": …}``, signed ``X-Careflow-Signature: sha256=<hex HMAC-SHA256 of
the body>`` with ``CAREFLOW_NOTIFY_WEBHOOK_SECRET`` when one is set.

Outbound carries the customer's handle, not their platform id, so an X DM resolves the handle
first; for Messenger and Instagram the adapter relies on the intake keying a private conversation
by the customer's page-scoped id (PSID/IGSID: a Page has one thread per person), because Meta
offers no lookup from a name.

Failures: a 429 is retried after its ``Retry-After`` (or X's ``x-rate-limit-reset``); 5xx,
timeouts and connection errors are retried with the workflow's backoff; any other 4xx (bad
credentials, a refused text) is final — ``DeliveryRejected`` — and the workflow escalates to a
human. A missing token or webhook URL is final too, naming the setting.

Idempotency: neither platform takes an idempotency key, so the adapter keeps its own record of
delivered keys in ``$CAREFLOW_HOME/deliveries.sqlite3`` (key, platform id, when; never the text),
checked before posting and written after the platform's 2xx. What is left: a worker that dies, or
an answer that is lost (a timeout, a dropped connection), between the platform accepting the post
and the record being written, leads the retry to post again. That window is one HTTP answer wide;
closing it needs a platform-side key or reading the conversation back before posting.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.outbound import Delivery, Outbound
from careflow.config import Settings

X_TEXT_LIMIT = 280
META_CHANNELS = ("facebook", "instagram")
WEBHOOK_KINDS = frozenset({"notification", "escalation", "chat_handoff"})
# Below the workflow's 10 s start-to-close timeout, so a slow platform is our timeout, not its.
HTTP_TIMEOUT = httpx.Timeout(8.0, connect=3.0)
SIGNATURE_HEADER = "X-Careflow-Signature"
MAX_RATE_LIMIT_WAIT = timedelta(minutes=15)  # X's rate-limit window


def rejected(message: str) -> ApplicationError:
    """A final failure: retrying cannot help; the workflow escalates to a human."""
    return ApplicationError(message, type="DeliveryRejected", non_retryable=True)


def unavailable(message: str, delay: timedelta | None = None) -> ApplicationError:
    """A passing failure: the activity is retried (after ``delay`` when the platform says)."""
    kind = "PlatformRateLimited" if delay is not None else "PlatformUnavailable"
    return ApplicationError(message, type=kind, next_retry_delay=delay)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Careflow-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after(headers: Mapping[str, str], now: float | None = None) -> timedelta:
    """How long a 429 asks us to wait: ``Retry-After`` (seconds or a date), else X's
    ``x-rate-limit-reset`` (epoch seconds), else a second; never more than 15 minutes."""
    now = time.time() if now is None else now
    wait = 1.0
    value = headers.get("retry-after")
    reset = headers.get("x-rate-limit-reset")
    try:
        if value is not None:
            wait = (
                float(value)
                if value.strip().isdigit()
                else (parsedate_to_datetime(value).timestamp() - now)
            )
        elif reset is not None:
            wait = float(reset) - now
    except (TypeError, ValueError):
        wait = 1.0
    return min(timedelta(seconds=max(wait, 1.0)), MAX_RATE_LIMIT_WAIT)


def _platform_message(response: httpx.Response) -> str:
    """The platform's own words for an error (X's problem detail, Graph's error.message)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        for field in ("detail", "title"):
            if body.get(field):
                return str(body[field])[:200]
    return response.text[:200]


def _posted_id(body: dict[str, Any], outbound: Outbound, *path: str) -> str:
    """The platform's id for what it accepted; a 2xx without one is still a post (failing now
    would post it again), so it gets an id made from the key."""
    value: Any = body
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if value:
        return str(value)
    return f"{outbound.channel}-" + hashlib.sha256(outbound.key.encode()).hexdigest()[:16]


class DeliveryRecord:
    """Delivered idempotency keys in a SQLite file: ``key`` is the primary key.

    SQLite serialises writers across worker processes sharing ``$CAREFLOW_HOME``; only the key,
    the platform id, the channel and the time are kept — no customer text.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS deliveries ("
                " key TEXT PRIMARY KEY, id TEXT NOT NULL, channel TEXT NOT NULL,"
                " kind TEXT NOT NULL, at TEXT NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def find(self, key: str) -> str | None:
        """The platform id the key was delivered as, if it was."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT id FROM deliveries WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def add(self, key: str, id: str, channel: str, kind: str) -> None:
        """Remember a delivery (a key already there keeps its first id)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO deliveries (key, id, channel, kind, at) VALUES (?,?,?,?,?)",
                (key, id, channel, kind, datetime.now(UTC).isoformat()),
            )


class PlatformAdapter:
    """Posts to the real platforms (or the fake one), at most once per key as far as it knows."""

    name = "platform"

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = HTTP_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.record = DeliveryRecord(settings.deliveries)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._x_ids: dict[str, str] = {}

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (tests run several loops in one process)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=self.timeout, transport=self._transport, follow_redirects=False
            )
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
                known = self.record.find(outbound.key)
                if known is not None:
                    return Delivery(key=outbound.key, id=known, text=text, duplicate=True)
                posted = await self._post(client, outbound, text)
                self.record.add(outbound.key, posted, outbound.channel, outbound.kind)
                return Delivery(key=outbound.key, id=posted, text=text)
        finally:
            if not lock.locked():
                self._locks.pop(outbound.key, None)

    async def _post(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> str:
        if outbound.kind in WEBHOOK_KINDS:
            return await self._webhook(client, outbound, text)
        if outbound.channel == "x":
            return await self._x(client, outbound, text)
        if outbound.channel in META_CHANNELS:
            return await self._meta(client, outbound, text)
        raise rejected(
            f"the platform adapter cannot post to channel {outbound.channel!r}: "
            "it knows x, facebook and instagram"
        )

    async def _x(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> str:
        token = self.settings.x_bearer_token
        if not token:
            raise rejected("no X token: set CAREFLOW_X_BEARER_TOKEN")
        base = self.settings.x_api_base.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"}
        if outbound.private:
            participant = await self._x_user_id(client, base, headers, outbound.recipient)
            url = f"{base}/2/dm_conversations/with/{participant}/messages"
            body = await self._call(client, "X", "POST", url, headers, {"text": text})
            return _posted_id(body, outbound, "data", "dm_event_id")
        if len(text) > X_TEXT_LIMIT:
            raise rejected(
                f"the reply is {len(text)} characters; a post on X holds {X_TEXT_LIMIT}: "
                "shorten it or continue in private"
            )
        payload = {"text": text, "reply": {"in_reply_to_tweet_id": outbound.in_reply_to}}
        body = await self._call(client, "X", "POST", f"{base}/2/tweets", headers, payload)
        return _posted_id(body, outbound, "data", "id")

    async def _x_user_id(
        self, client: httpx.AsyncClient, base: str, headers: dict[str, str], handle: str
    ) -> str:
        handle = handle.lstrip("@")
        if handle not in self._x_ids:
            url = f"{base}/2/users/by/username/{handle}"
            body = await self._call(client, "X", "GET", url, headers, None)
            data = body.get("data")
            if not isinstance(data, dict) or not data.get("id"):
                raise rejected(f"X knows no user @{handle}: cannot send a DM")
            self._x_ids[handle] = str(data["id"])
        return self._x_ids[handle]

    async def _meta(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> str:
        token = self.settings.meta_page_token
        if not token:
            raise rejected("no Meta Page token: set CAREFLOW_META_PAGE_TOKEN")
        base = self.settings.meta_graph_base.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"}
        if outbound.private:
            payload: dict[str, Any] = {
                "recipient": {"id": outbound.conversation_id},
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            }
            body = await self._call(client, "Meta", "POST", f"{base}/me/messages", headers, payload)
            return _posted_id(body, outbound, "message_id")
        edge = "replies" if outbound.channel == "instagram" else "comments"
        url = f"{base}/{outbound.in_reply_to}/{edge}"
        body = await self._call(client, "Meta", "POST", url, headers, {"message": text})
        return _posted_id(body, outbound, "id")

    async def _webhook(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> str:
        url = self.settings.notify_webhook_url
        if not url:
            raise rejected(
                f"no notification webhook for this {outbound.kind}: set CAREFLOW_NOTIFY_WEBHOOK_URL"
            )
        summary = text or f"careflow {outbound.kind}: {outbound.channel} {outbound.conversation_id}"
        raw = json.dumps({"text": summary}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Careflow-Key": outbound.key}
        if self.settings.notify_webhook_secret:
            headers[SIGNATURE_HEADER] = sign(self.settings.notify_webhook_secret, raw)
        await self._call(client, "the notification webhook", "POST", url, headers, raw)
        return "webhook-" + hashlib.sha256(outbound.key.encode()).hexdigest()[:16]

    async def _call(
        self,
        client: httpx.AsyncClient,
        platform: str,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: dict[str, Any] | bytes | None,
    ) -> dict[str, Any]:
        """One request; every failure becomes a retryable or a final ApplicationError.

        Messages name the platform and the status, never the URL (a webhook URL is a secret)
        nor the headers (tokens)."""
        try:
            if isinstance(payload, bytes):
                response = await client.request(method, url, headers=headers, content=payload)
            else:
                response = await client.request(method, url, headers=headers, json=payload)
        except httpx.TimeoutException:
            raise unavailable(f"{platform} did not answer in time") from None
        except httpx.TransportError as error:
            raise unavailable(f"{platform} is unreachable: {type(error).__name__}") from None
        status = response.status_code
        if status == 429:
            wait = retry_after(response.headers)
            raise unavailable(f"{platform} rate limit (429): retry in {wait}", delay=wait)
        if status >= 500 or status == 408:
            raise unavailable(f"{platform} answered {status}: {_platform_message(response)}")
        if status >= 300:
            raise rejected(f"{platform} refused the post ({status}): {_platform_message(response)}")
        if not response.content or not response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return {}
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
