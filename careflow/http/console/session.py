"""Who is using the console: a signed session cookie, or the API's ``Authorization: Bearer``.

The cookie holds no token: only the token's sha256 and a CSRF token made at sign-in, signed and
timestamped by itsdangerous (HMAC under a key derived from the configured tokens,
``Tokens.secret``), so every process with the same tokens accepts it and changing the tokens
signs everyone out; it expires ``LIFETIME`` after sign-in. Each request looks the digest up
again: a token removed from the configuration ends its sessions.

Forms are protected twice: every POST made with the cookie must carry the session's CSRF token
and come from this site (``Origin``, else ``Referer``). A bearer request needs neither, since
a browser never adds that header on its own.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from careflow.http.tokens import Caller, Tokens, digest_hex

COOKIE = "careflow_session"
LIFETIME = 12 * 3600  # a working day and a bit: then sign in again
PURPOSE = "careflow console session v1"


@dataclass(frozen=True)
class Session:
    """A signed-in caller; ``csrf`` is None for bearer requests (no cookie, no CSRF)."""

    caller: Caller
    csrf: str | None
    expires: int | None


def _signer(tokens: Tokens) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(tokens.secret(PURPOSE), salt=PURPOSE)


def make_cookie(tokens: Tokens, token: str) -> tuple[str, str]:
    """The cookie value for a valid ``token``, and the session's CSRF token."""
    csrf = secrets.token_urlsafe(24)
    return _signer(tokens).dumps({"d": digest_hex(token), "c": csrf}), csrf


def read_cookie(tokens: Tokens, value: str, now: float | None = None) -> Session | None:
    """The session a cookie stands for; None when forged, expired, malformed or revoked."""
    try:
        payload, signed_at = _signer(tokens).loads(value, return_timestamp=True)
        digest, csrf = str(payload["d"]), str(payload["c"])
    except (BadData, KeyError, TypeError):
        return None
    expires = int(signed_at.timestamp()) + LIFETIME
    if expires < (time.time() if now is None else now):
        return None
    caller = tokens.caller_by_digest(digest)
    return None if caller is None else Session(caller, csrf, expires)


def set_cookie(response: Response, request: Request, value: str) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure
    behind HTTPS, and gone after ``LIFETIME``."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this site: its ``Origin`` (or, lacking one, its
    ``Referer``) names this host. Browsers send one of them on every form POST."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    parts = urlsplit(claimed)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


def csrf_ok(session: Session, offered: str | None) -> bool:
    if session.csrf is None:  # a bearer request
        return True
    return offered is not None and hmac.compare_digest(session.csrf, offered)
