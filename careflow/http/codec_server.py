"""The codec server: lets the Temporal Web UI and CLI show encrypted payloads to authorized people.

It speaks Temporal's remote codec protocol: ``POST …/decode`` and ``POST …/encode`` take a
``Payloads`` protobuf as JSON (``{"payloads": [{"metadata": {…}, "data": "<base64>"}]}``) and
answer the same shape; only the last path segment names the operation, so it may be mounted under
any prefix. Decoded payloads are customer data, so every request must carry one of
``CAREFLOW_CODEC_TOKENS``: as ``Authorization: Bearer <token>`` (the CLI's ``--codec-auth``), or
as a path segment before the operation (``http://host:8081/<token>``), the only way the Web UI can
send one without OIDC. Tokens and payloads are never logged.

``careflow up`` runs one for its own Web UI with ``owner`` set (see ``codec_app``): the UI's
endpoint URL is no secret on a shared machine, so there the connecting program's user is checked.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from careflow.http.body import read_body
from careflow.temporal.codec import CodecError, EncryptionCodec

log = logging.getLogger("careflow.http.codec_server")
MAX_BODY = 8 * 1024 * 1024  # a history page of payloads; more is not a codec request
MIN_TOKEN = 16
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~+=-]+")  # usable in a header and in a URL path
TOKENS_VARIABLE = "CAREFLOW_CODEC_TOKENS"
MAKE_TOKEN = 'python -c "import secrets;print(secrets.token_urlsafe(32))"'
OPERATIONS = ("encode", "decode")
PROC_TCP = Path("/proc/net/tcp")  # Linux: every IPv4 TCP socket and the uid that owns it
LOCAL_HOSTS = ("127.0.0.1", "localhost")


class TokenConfigError(ValueError):
    """Missing or weak codec tokens, said in one line that never shows a token."""


def check_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """The tokens, if they are fit to guard decrypted customer data."""
    if not tokens:
        raise TokenConfigError(
            f"{TOKENS_VARIABLE} is not set: the codec server decrypts customer data and serves "
            f"only holders of a token; set {TOKENS_VARIABLE}=<token>[,<token>…] "
            f"(make one with {MAKE_TOKEN})"
        )
    for number, token in enumerate(tokens, start=1):
        if len(token) < MIN_TOKEN:
            raise TokenConfigError(
                f"{TOKENS_VARIABLE}, token {number}: {len(token)} characters is too easy to "
                f"guess; use at least {MIN_TOKEN} (make one with {MAKE_TOKEN})"
            )
        if not TOKEN_PATTERN.fullmatch(token):
            raise TokenConfigError(
                f"{TOKENS_VARIABLE}, token {number}: use only letters, digits and . _ ~ + = -"
            )
    return tuple(tokens)


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _refusal(request: Request, segments: list[str], tokens: Sequence[str]) -> JSONResponse | None:
    """401 without a token, 403 with a wrong one; None when one of ``tokens`` was offered."""
    offered = segments[:-1]
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        offered.append(credentials.strip())
    if not offered:
        return _error(
            401,
            "authorization required: send Authorization: Bearer <token>, "
            f"a token from {TOKENS_VARIABLE}",
            **{"WWW-Authenticate": "Bearer"},
        )
    # Compare every candidate with every token (no early exit) in constant time per pair.
    matches = [
        hmac.compare_digest(candidate.encode(), token.encode())
        for candidate in offered
        for token in tokens
    ]
    if any(matches):
        return None
    return _error(403, f"the token is not one of {TOKENS_VARIABLE}")


def _address(hex_address: str) -> tuple[str, int]:
    """``0100007F:1F90`` (as /proc/net/tcp writes it: the IPv4 address in host byte order)."""
    host, _, port = hex_address.partition(":")
    packed = int(host, 16).to_bytes(4, sys.byteorder)
    return str(ipaddress.IPv4Address(packed)), int(port, 16)


def peer_uid(peer: tuple[str, int], server: tuple[str, int], table: Path = PROC_TCP) -> int | None:
    """The uid that owns the other end of a local TCP connection (``peer`` connected to
    ``server``), or None where the system does not say (no /proc/net/tcp, or not found)."""
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and (_address(fields[1]), _address(fields[2])) == (peer, server):
            return int(fields[7])
    return None


def _not_the_owner(request: Request, owner: int) -> JSONResponse | None:
    """403 unless the request is for this machine by name (no DNS rebinding) and, where the
    system says who owns the connecting socket, comes from a program of ``owner``'s."""
    host = request.headers.get("host", "").rsplit(":", 1)[0]
    if host not in LOCAL_HOSTS:
        return _error(403, f"call this codec server as {' or '.join(LOCAL_HOSTS)}")
    client, server = request.scope.get("client"), request.scope.get("server")
    if client is None or server is None:
        return None
    if not PROC_TCP.exists():
        return None  # no way to tell (not Linux): the token in the path is the guard
    uid = peer_uid((client[0], client[1]), (server[0], server[1]))
    if uid != owner:
        return _error(403, "only the programs of the user who runs careflow up may use this")
    return None


def codec_app(
    codec: EncryptionCodec,
    tokens: Sequence[str],
    origins: Sequence[str],
    *,
    owner: int | None = None,
) -> Starlette:
    """The ASGI app; CORS lets the Web UI at ``origins`` call it from the browser.

    With ``owner`` (a uid; ``careflow up``'s own server, on 127.0.0.1) it also answers only
    requests addressed to 127.0.0.1 or localhost from programs that user runs: the Temporal UI
    hands its codec endpoint, token and all, to whoever loads the UI (its ``/api/v1/settings``),
    and the dev server's UI has no login, so on a shared machine the token alone would give any
    other user the plaintext. Where the system cannot say who owns a connection (it reads
    Linux's /proc/net/tcp), the token is the only guard, and anyone who can load the local UI
    can decode through it. The UI itself still shows every local user what it shows without a
    codec: ids, search attributes, event types, and the ciphertext.
    """
    tokens = check_tokens(tokens)

    async def handle(request: Request) -> Response:
        segments = [part for part in request.url.path.split("/") if part]
        operation = segments[-1] if segments else ""
        if operation not in OPERATIONS:
            return _error(404, "POST to …/encode or …/decode")
        namespace = request.headers.get("x-namespace", "-")[:64]
        stranger = None if owner is None else _not_the_owner(request, owner)
        if stranger is not None:
            client = request.client.host if request.client else "?"
            log.warning("refused %s from %s: not the owner's program", operation, client)
            return stranger
        refusal = _refusal(request, segments, tokens)
        if refusal is not None:
            reason = "no token" if refusal.status_code == 401 else "wrong token"
            client = request.client.host if request.client else "?"
            log.warning("refused %s from %s: %s", operation, client, reason)
            return refusal
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError):
            return _error(400, "the body is not a Payloads message as JSON")
        try:
            if operation == "decode":
                result = await codec.decode(payloads.payloads)
            else:
                result = await codec.encode(payloads.payloads)
        except CodecError as error:
            log.warning("%s failed (namespace %s): %s", operation, namespace, error)
            return _error(400, str(error))
        log.info("%s %d payloads (namespace %s)", operation, len(result), namespace)
        answer = json_format.MessageToJson(Payloads(payloads=result))
        return Response(answer, media_type="application/json")

    return Starlette(
        routes=[Route("/{path:path}", handle, methods=["POST"])],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(origins),
                allow_methods=["POST"],
                allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                allow_credentials=True,  # the UI's "include cross-origin credentials"
                max_age=600,
            )
        ],
    )
