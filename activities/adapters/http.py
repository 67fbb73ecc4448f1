"""One request to a platform, and how its failures become Temporal's retry decisions.

Every failure is an ``ApplicationError`` whose type the workflow and recorded histories know:
a 429 is ``PlatformRateLimited``, retried after its ``Retry-After`` (or X's
``x-rate-limit-reset``); 5xx, 408, timeouts and connection errors are ``PlatformUnavailable``,
retried with the workflow's backoff; any other 4xx (bad credentials, a refused text) is final —
``DeliveryRejected`` — and the workflow escalates to a human. Messages name the platform and the
status, never a URL (a webhook URL is a secret) nor a header (tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

# Below the workflow's 10 s start-to-close timeout, so a slow platform is our timeout, not its.
HTTP_TIMEOUT = httpx.Timeout(8.0, connect=3.0)
SIGNATURE_HEADER = "X-Careflow-Signature"
MAX_RATE_LIMIT_WAIT = timedelta(minutes=15)  # X's rate-limit window

Renew = Callable[[str], Awaitable[str]]


def rejected(message: str, *details: object) -> ApplicationError:
    """A final failure: retrying cannot help; the workflow escalates to a human. ``details``
    carry what a caller may act on (a Graph error code)."""
    return ApplicationError(message, *details, type="DeliveryRejected", non_retryable=True)


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


def _graph_code(response: httpx.Response) -> int | None:
    """A Graph error's ``error.code``."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def key_id(prefix: str, key: str) -> str:
    """A stable id made from the idempotency key, for a post the platform gave none."""
    return f"{prefix}-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def posted_id(body: dict[str, Any], key: str, channel: str, *path: str) -> str:
    """The platform's id for what it accepted; a 2xx without one is still a post (failing now
    would post it again), so it gets an id made from the key."""
    value: Any = body
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if value:
        return str(value)
    return key_id(channel, key)


async def call(
    client: httpx.AsyncClient,
    platform: str,
    method: str,
    url: str,
    headers: dict[str, str],
    payload: dict[str, Any] | bytes | None,
    final: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """One request; every failure becomes a retryable or a final ApplicationError.

    Messages name the platform and the status, never the URL (a webhook URL is a secret)
    nor the headers (tokens). ``final`` gives clearer words for some Graph error codes."""
    response = await send(client, platform, method, url, headers, payload)
    return answer(response, platform, final)


async def send(
    client: httpx.AsyncClient,
    platform: str,
    method: str,
    url: str,
    headers: dict[str, str],
    payload: dict[str, Any] | bytes | None,
) -> httpx.Response:
    """The request itself; a timeout or a transport error is ``PlatformUnavailable``."""
    try:
        if isinstance(payload, bytes):
            return await client.request(method, url, headers=headers, content=payload)
        return await client.request(method, url, headers=headers, json=payload)
    except httpx.TimeoutException:
        raise unavailable(f"{platform} did not answer in time") from None
    except httpx.TransportError as error:
        raise unavailable(f"{platform} is unreachable: {type(error).__name__}") from None


def answer(
    response: httpx.Response, platform: str, final: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """A response's JSON object, or its failure as a retryable or a final ApplicationError."""
    status = response.status_code
    if status == 429:
        wait = retry_after(response.headers)
        raise unavailable(f"{platform} rate limit (429): retry in {wait}", delay=wait)
    if status >= 500 or status == 408:
        raise unavailable(f"{platform} answered {status}: {_platform_message(response)}")
    if status >= 300:
        code = _graph_code(response)
        if final and code is not None and code in final:
            raise rejected(f"{final[code]} ({platform} answered {status}, code {code})", code)
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


@dataclass(frozen=True)
class Api:
    """A platform's API as the brand's token sees it: X and Meta share the shape of a call."""

    client: httpx.AsyncClient
    platform: str  # how errors name it: "X", "Meta"
    base: str
    headers: dict[str, str]
    # Given the token the platform refused (401), a new one (X's OAuth 2.0 refresh).
    renew: Renew | None = None

    @classmethod
    def bearer(
        cls,
        client: httpx.AsyncClient,
        platform: str,
        base: str,
        token: str | None,
        missing: str,
        renew: Renew | None = None,
    ) -> Api:
        """The API with ``token``; without one the delivery fails for good, saying ``missing``."""
        if not token:
            raise rejected(missing)
        headers = {"Authorization": f"Bearer {token}"}
        return cls(client, platform, base.rstrip("/"), headers, renew)

    async def call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        final: Mapping[int, str] | None = None,
    ) -> dict[str, Any]:
        """``call`` on ``base + path``. A 401 with ``renew`` gets a new token, once, and the
        request is sent once more: a 401 means the platform took nothing, so nothing doubles."""
        url = self.base + path
        response = await send(self.client, self.platform, method, url, self.headers, payload)
        if response.status_code == 401 and self.renew is not None:
            stale = self.headers["Authorization"].removeprefix("Bearer ")
            # The dict is this Api's own: later calls of this delivery use the new token too.
            self.headers["Authorization"] = f"Bearer {await self.renew(stale)}"
            response = await send(self.client, self.platform, method, url, self.headers, payload)
        return answer(response, self.platform, final)
