"""X's OAuth 2.0 user token, kept valid: refreshed ahead of expiry and after a 401.

X's user access tokens last two hours, and its refresh tokens rotate: each refresh (``POST
/2/oauth2/token``, ``grant_type=refresh_token``, the client id, and for a confidential client
Basic auth with the client secret) answers a new pair and invalidates the refresh token it was
given. So the current pair must be kept where every worker finds it, and refreshed by one of
them at a time: a worker refreshing with a token another one has already spent is refused for
good, and the brand has to authorize the app again.

The pair lives in ``$CAREFLOW_HOME/x-oauth.json`` (0600), replaced atomically (a temporary file
in the same folder, fsync, rename), and every refresh happens under an exclusive ``flock`` on
``$CAREFLOW_HOME/x-oauth.lock``: a worker that waited for the lock reads the file again and uses
the pair the other one wrote, so several processes on one host make one refresh. The lock is a
local one: workers on several hosts must not share one refresh token (see
docs/platform-adapter.md). ``CAREFLOW_X_REFRESH_TOKEN`` only seeds the file: the file remembers
the seed's sha256, and a different seed (the app authorized again) starts over from it.

Tokens never reach a workflow (the adapter is activity code and returns only ``Delivery``), a
log line, an exception message or ``repr``.

X's token endpoint answers (docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE"):
``{"token_type": "bearer", "expires_in": 7200, "access_token": "…", "scope": "tweet.write
users.read tweet.read offline.access", "refresh_token": "…"}``; a spent or unknown refresh token
is a 400 ``{"error": "invalid_request", "error_description": "Value passed for the token was
invalid."}`` (the shape X answers for a bad code too: github.com/plhery/node-twitter-api-v2
issue 496).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from activities.adapters.http import rejected, retry_after, unavailable
from careflow.local_state import private_file, private_folder
from careflow.settings import PlatformSettings

log = logging.getLogger(__name__)

TOKEN_FILE = "x-oauth.json"
LOCK_FILE = "x-oauth.lock"
TOKEN_PATH = "/2/oauth2/token"
DEFAULT_LIFETIME = 7200.0  # X: two hours, when an answer does not say
REFRESH_AHEAD = 300.0  # renew five minutes before expiry (a quarter of a shorter lifetime)
LOCK_WAIT = 20.0  # seconds to wait for another process's refresh
LOCK_POLL = 0.05
REAUTHORIZE = (
    "authorize the app again (OAuth 2.0 with offline.access) and set CAREFLOW_X_REFRESH_TOKEN "
    "to the new refresh token"
)


def fingerprint(secret: str) -> str:
    """Which seed a stored pair descends from, without storing the seed itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    """The current access token and the refresh token that replaces it."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    refresh_at: float  # epoch seconds: from then on, renew before use
    expires_at: float
    seed: str  # fingerprint of the CAREFLOW_X_REFRESH_TOKEN this chain started from

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "refresh_at": self.refresh_at,
            "expires_at": self.expires_at,
            "seed": self.seed,
        }


def _pair_of(data: Any) -> TokenPair | None:
    if not isinstance(data, dict):
        return None
    try:
        return TokenPair(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            refresh_at=float(data["refresh_at"]),
            expires_at=float(data["expires_at"]),
            seed=str(data["seed"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


class XTokens:
    """Hands out a valid X access token; refreshes it (once, for every process of one
    ``$CAREFLOW_HOME``) when it is due or the platform refused it."""

    def __init__(
        self, settings: PlatformSettings, home: Path, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.path = home / TOKEN_FILE
        self.lock_path = home / LOCK_FILE
        self.clock = clock
        self._local = asyncio.Lock()  # this process's coroutines queue here before the flock
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def refreshing(self) -> bool:
        """Whether refresh is configured; otherwise ``CAREFLOW_X_BEARER_TOKEN`` is used as it is."""
        return bool(self.settings.x_refresh_token)

    @property
    def _seed(self) -> str:
        return fingerprint(self.settings.x_refresh_token or "")

    async def current(self, client: httpx.AsyncClient) -> str:
        """The access token to use now: the stored one while it is fresh, else a new one."""
        if not self.refreshing:
            if not self.settings.x_bearer_token:
                raise rejected(
                    "no X token: set CAREFLOW_X_BEARER_TOKEN or CAREFLOW_X_REFRESH_TOKEN"
                )
            return self.settings.x_bearer_token
        pair = self.stored()
        if pair is not None and self.clock() < pair.refresh_at:
            return pair.access_token
        return await self.renew(client, pair.access_token if pair else None)

    async def renew(self, client: httpx.AsyncClient, stale: str | None) -> str:
        """A token other than ``stale`` (the one due or refused): another process's fresh one
        if it refreshed while this one waited for the lock, else one refreshed now."""
        if not self.refreshing:
            raise rejected("X refused the token (401): CAREFLOW_X_BEARER_TOKEN is not valid")
        async with self._in_process(), self._file_lock():
            pair = self.stored()
            if pair is not None and pair.access_token != stale and self.clock() < pair.refresh_at:
                return pair.access_token
            refresh_token = pair.refresh_token if pair else self.settings.x_refresh_token
            assert refresh_token is not None  # self.refreshing
            fresh = await self._refresh(client, refresh_token)
            self._store(fresh)
            log.info(
                "X access token refreshed; the new one is due for renewal in %.0fs",
                fresh.refresh_at - self.clock(),
            )
            return fresh.access_token

    def stored(self) -> TokenPair | None:
        """The pair in the file, if it descends from the configured seed."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning(
                "%s cannot be read: starting again from CAREFLOW_X_REFRESH_TOKEN", self.path
            )
            return None
        pair = _pair_of(data)
        return pair if pair is not None and pair.seed == self._seed else None

    def _store(self, pair: TokenPair) -> None:
        """Write + fsync + rename: a reader sees the old pair or the new one, never half."""
        folder = private_folder(self.path.parent)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".x-oauth.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # mkstemp makes it 0600
                json.dump(pair.as_json(), file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        with contextlib.suppress(OSError):  # the rename itself survives a crash
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @contextlib.asynccontextmanager
    async def _in_process(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # tests run several loops in one process
            self._local, self._loop = asyncio.Lock(), loop
        async with self._local:
            yield

    @contextlib.asynccontextmanager
    async def _file_lock(self) -> AsyncIterator[None]:
        """An exclusive ``flock``, polled so the event loop keeps running while it waits."""
        descriptor = os.open(private_file(self.lock_path), os.O_RDWR)
        try:
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise unavailable(
                            "another careflow process is refreshing the X token"
                        ) from None
                    await asyncio.sleep(LOCK_POLL)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    async def _refresh(self, client: httpx.AsyncClient, refresh_token: str) -> TokenPair:
        """One ``POST /2/oauth2/token``; its failures as the adapter's retry decisions."""
        settings = self.settings
        if not settings.x_client_id:
            raise rejected(
                "CAREFLOW_X_REFRESH_TOKEN needs CAREFLOW_X_CLIENT_ID (the app's client id)"
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.x_client_id,
        }
        auth = (
            httpx.BasicAuth(settings.x_client_id, settings.x_client_secret)
            if settings.x_client_secret
            else None
        )
        url = settings.x_api_base.rstrip("/") + TOKEN_PATH
        try:
            response = await client.post(
                url,
                content=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=auth or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise unavailable("X's token endpoint did not answer in time") from None
        except httpx.TransportError as error:
            raise unavailable(
                f"X's token endpoint is unreachable: {type(error).__name__}"
            ) from None
        status = response.status_code
        if status == 429:
            wait = retry_after(response.headers)
            raise unavailable(f"X's token endpoint rate limit (429): retry in {wait}", delay=wait)
        if status >= 500 or status == 408:
            raise unavailable(f"X's token endpoint answered {status}")
        body = _json(response)
        if status >= 300:
            kind = body.get("error") or "error"
            detail = str(body.get("error_description") or "")[:200]
            raise rejected(
                f"X refused the token refresh ({status}, {kind}: {detail}): {REAUTHORIZE}"
            )
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise rejected(f"X's token endpoint answered no access_token: {REAUTHORIZE}")
        rotated = body.get("refresh_token")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        now = self.clock()
        return TokenPair(
            access_token=access,
            # Without a new one (rotation off), the one given stays valid.
            refresh_token=rotated if isinstance(rotated, str) and rotated else refresh_token,
            refresh_at=now + lifetime - min(REFRESH_AHEAD, lifetime / 4),
            expires_at=now + lifetime,
            seed=self._seed,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
