"""A fake X and Meta, real over HTTP: the subset careflow's platform adapter calls, plus faults.

It answers like the real APIs (shapes from the X API v2 and Graph API references):

- X API v2: ``POST /2/tweets`` (``{"text", "reply": {"in_reply_to_tweet_id"}}`` → 201
  ``{"data": {"id", "text"}}``; a text over 280 characters as X counts them — a URL is 23, CJK
  and emoji 2 — is a 400), ``POST
  /2/dm_conversations/with/{participant_id}/messages`` (``{"text"}`` → 201 ``{"data":
  {"dm_conversation_id", "dm_event_id"}}``) and ``GET /2/users/by/username/{username}`` (→
  ``{"data": {"id", "name", "username"}}``, a stable made-up id per name);
- Graph API: ``POST /{version}/{object_id}/comments`` (Facebook) and ``…/replies`` (Instagram)
  (``{"message"}`` → ``{"id"}``),
  ``POST /{version}/{ig_user}/mentions`` (a reply to an Instagram @mention: ``{"media_id",
  "comment_id"?, "message"}`` → ``{"id"}``, recorded as kind ``mention_reply``),
  ``POST /{version}/{object_id}/private_replies`` (the legacy edge, ``{"message"}`` → ``{"id"}``),
  ``POST /{version}/{page_id}/feed`` (a Page post, ``{"message"}`` → ``{"id": "<page>_<post>"}``,
  kind ``page_post``)
  and ``POST /{version}/me/messages`` (``{"recipient": {"id"} or {"comment_id"}, "message":
  {"text"}}`` → ``{"recipient_id", "message_id"}``; Messenger's 2000 characters a message; or
  ``"message": {"attachment": {"type": "template", "payload": {"template_type":
  "customer_feedback", …}}}``, Messenger's customer-feedback template, checked as
  ``feedback_template_problem`` says and recorded as a message with no text and its
  ``template``).
  Meta's Private Replies: a send to ``recipient.comment_id`` (recorded as kind
  ``private_reply``, like the legacy edge) is allowed once per comment; the second is a 400
  ``(#10900)`` Graph error, as Meta answers;
- a live-chat service: ``POST /chat/sessions`` (any JSON, no token needed; headers recorded,
  kind ``chat_session``) → 201 ``{"id", "url"}``, and the same ``Idempotency-Key`` again → 200
  with the same session; ``GET /chat/{id}`` shows a session (its transcript, its agent);
- a Slack-style incoming webhook: ``POST /hooks/{name}`` (any JSON → ``ok``), whose headers are
  recorded so tests can check the signature;
- X's OAuth 2.0 token endpoint: ``POST /2/oauth2/token`` with ``grant_type=refresh_token``
  answers a new access token (accepted until it expires) and a new refresh token, and spends the
  one it was given: using it again is X's 400 ``{"error": "invalid_request",
  "error_description": "Value passed for the token was invalid."}`` (``FakeOAuth``).

The platform endpoints want ``Authorization: Bearer <token>`` (Graph also takes
``?access_token=``); 401 otherwise. Every accepted post is recorded: ``GET /_fake/posts`` lists
them (as a page for a person at ``GET /_fake/``, or when a browser asks for HTML), ``DELETE
/_fake/posts`` forgets them and the faults, ``GET /_fake/faults`` counts the requests still to
be spoiled. ``POST /_fake/faults`` with
``{"status": 500|429|503, "count": n, "retry_after": s, "delay": s, "drop": true|"after",
"skip": k}`` applies to the next ``n`` requests after letting ``k`` through: ``delay`` sleeps
before answering, ``status`` answers with that error (a 429 with ``Retry-After`` and ``x-rate-limit-reset``), ``drop`` closes the connection
without a complete answer — ``true`` before the post is processed, ``"after"`` once it is recorded
(the platform accepted it, its answer was lost). The brand's own posts can be read back as the
platforms list them (``fake_reads``), which is how a retry finds an earlier attempt. Dropping is done by starting the response and
then raising: uvicorn cannot finish an answer it started, so it closes the connection and the
client sees the peer go away mid-response.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from careflow.devtools.fake_page import posts_page, wants_html
from careflow.devtools.fake_reads import graph_error, profile_route, read_routes, x_problem
from careflow.devtools.fake_webhooks import NO_SECRETS, Secrets, WebhookSender
from careflow.http.serving import DroppedConnection

X_TEXT_LIMIT = 280
X_URL_LENGTH = 23  # every URL counts as a t.co link
MESSENGER_TEXT_LIMIT = 2000
DEFAULT_TOKEN = "careflow-fake-token"
FAKE_PREFIX = "/_fake/"


@dataclass
class Fault:
    """What the next ``count`` requests get instead of (or before) a normal answer."""

    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool | str = False
    skip: int = 0  # requests to let through first


@dataclass
class FakeOAuth:
    """X's OAuth 2.0 token endpoint: access tokens expire, refresh tokens rotate (each refresh
    spends the one it was given). ``POST /_fake/oauth`` seeds a refresh token and sets the
    client and the lifetime; ``GET /_fake/oauth`` counts refreshes."""

    lifetime: float = 7200.0  # X: two hours
    client_id: str | None = None  # when set, a refresh must name it
    client_secret: str | None = None  # when set, a refresh needs Basic auth with it
    refresh_tokens: set[str] = field(default_factory=set)  # valid, not yet spent
    access: dict[str, float] = field(default_factory=dict)  # access token → expiry (monotonic)
    refreshes: int = 0
    refused: int = 0

    def valid(self, token: str | None) -> bool:
        return token is not None and self.access.get(token, 0.0) > time.monotonic()


@dataclass
class FakeState:
    """Everything the fake remembers: posts in order, pending faults, its tokens."""

    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    oauth: FakeOAuth = field(default_factory=FakeOAuth)
    posts: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    private_replies: set[str] = field(default_factory=set)  # comments privately replied to
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)  # sessions by id
    chat_keys: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → session id
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sender: WebhookSender = field(default_factory=WebhookSender)  # customers' posts → intake

    def next_id(self) -> str:
        return str(1_990_000_000_000_000_000 + next(self.ids))

    def take_fault(self) -> Fault | None:
        """The fault for this request, if one is pending (the oldest first)."""
        while self.faults:
            fault = self.faults[0]
            if fault.count <= 0:
                self.faults.pop(0)
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.count -= 1
            return fault
        return None


def feedback_template_problem(attachment: Any) -> str | None:
    """What Meta would refuse in a customer-feedback template send, or None: the parts its
    reference marks required (careflow.engine.messenger_feedback names the source)."""
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if not isinstance(attachment, dict) or attachment.get("type") != "template":
        return "message.attachment: only a template attachment is taken here"
    if not isinstance(payload, dict) or payload.get("template_type") != "customer_feedback":
        return "payload.template_type must be customer_feedback"
    for key, limit in (("title", 65), ("subtitle", 80), ("button_title", 20)):
        if not isinstance(payload.get(key), str) or not payload[key]:
            return f"payload.{key} is required"
        if len(payload[key]) > limit:
            return f"payload.{key}: at most {limit} characters"
    privacy = payload.get("business_privacy")
    if not isinstance(privacy, dict) or not str(privacy.get("url", "")).startswith("https://"):
        return "payload.business_privacy.url is required"
    screens = payload.get("feedback_screens")
    if not isinstance(screens, list) or len(screens) != 1 or not isinstance(screens[0], dict):
        return "payload.feedback_screens: one screen is supported"
    questions = screens[0].get("questions")
    if not isinstance(questions, list) or len(questions) != 1:
        return "payload.feedback_screens[0].questions: one question is supported"
    for question in questions:
        if not isinstance(question, dict) or not question.get("id"):
            return "each question needs an id"
        if question.get("type") not in ("csat", "nps", "ces"):
            return "a question's type is csat, nps or ces"
    days = payload.get("expires_in_days", 1)
    if not isinstance(days, int) or not 1 <= days <= 7:
        return "payload.expires_in_days is 1 to 7"
    return None


def x_length(text: str) -> int:
    """A text's length as X counts it: each URL 23, code points from Latin to Ethiopic and some
    punctuation 1, anything else (CJK, emoji) 2."""
    total = 0
    for token in re.split(r"(\s+)", unicodedata.normalize("NFC", text)):
        if re.match(r"https?://", token, re.IGNORECASE):
            total += X_URL_LENGTH
            continue
        for char in token:
            point = ord(char)
            light = (
                point <= 4351
                or 8192 <= point <= 8205
                or 8208 <= point <= 8223
                or 8242 <= point <= 8247
            )
            total += 1 if light else 2
    return total


def user_id(username: str) -> str:
    """A stable made-up X user id for a handle."""
    return str(int(hashlib.sha256(username.lower().encode()).hexdigest()[:12], 16))


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query_params.get("access_token")


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def fake_platform_app(
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
    intake_url: str | None = None,
    secrets: Secrets = NO_SECRETS,
) -> FakePlatform:
    """The ASGI app: the fault layer around the Starlette routes. With ``intake_url`` (and the
    secrets the intake checks), ``POST /_fake/webhooks`` delivers customers' posts there."""
    sender = WebhookSender(intake_url=intake_url, secrets=secrets)
    return FakePlatform(FakeState(tokens=tokens, sender=sender))


class FakePlatform:
    """Applies the pending fault to each platform request, then lets the routes answer."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.routes = _routes(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(FAKE_PREFIX):
            await self.routes(scope, receive, send)
            return
        fault = self.state.take_fault()
        if fault is None:
            await self.routes(scope, receive, send)
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop is True or fault.drop == "before":
            await _drop(send)
        if fault.drop == "after":
            await self.routes(scope, receive, _swallow)
            await _drop(send)
        if fault.status is not None:
            headers: dict[str, str] = {}
            if fault.status == 429:
                wait = fault.retry_after if fault.retry_after is not None else 1
                headers = {
                    "Retry-After": str(wait),
                    "x-rate-limit-limit": "300",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time()) + wait),
                }
            title = {429: "Too Many Requests", 503: "Service Unavailable"}.get(
                fault.status, "Internal Server Error"
            )
            response = JSONResponse(
                {
                    "title": title,
                    "detail": f"injected fault: {fault.status}",
                    "status": fault.status,
                },
                status_code=fault.status,
                headers=headers,
            )
            await response(scope, receive, send)
            return
        await self.routes(scope, receive, send)


def _already_replied() -> Response:
    """Meta's answer to a second private reply to one comment."""
    return graph_error(
        400,
        "(#10900) Activity already replied to: a comment takes one private reply",
        10900,
    )


def _oauth_error(status: int, error: str, description: str) -> Response:
    """X's OAuth 2.0 error shape (RFC 6749's ``error``/``error_description``)."""
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _chat_url(request: Request, session_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/chat/{session_id}"


def _chat_answer(request: Request, session: dict[str, Any]) -> dict[str, Any]:
    return {"id": session["id"], "url": _chat_url(request, session["id"])}


async def _swallow(message: Any) -> None:
    """An ASGI ``send`` that throws the answer away (the answer that gets lost)."""


async def _drop(send: Send) -> NoReturn:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    raise DroppedConnection("fault injected: connection dropped")


def _routes(state: FakeState) -> Starlette:
    def record(request: Request, kind: str, **entry: Any) -> dict[str, Any]:
        post = {
            "id": state.next_id(),
            "at": datetime.now(UTC).isoformat(),
            "kind": kind,
            "method": request.method,
            "path": request.url.path,
            **entry,
        }
        state.posts.append(post)
        state.sender.echo_soon(post)  # the platform tells the brand about its own post
        return post

    def refused(request: Request) -> bool:
        token = _bearer(request)
        return token not in state.tokens and not state.oauth.valid(token)

    async def tweets(request: Request) -> Response:
        if refused(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        body = await _json(request)
        text = body.get("text") if body else None
        if not isinstance(text, str) or not text:
            return x_problem(400, "Invalid Request", "The `text` field is required.")
        if x_length(text) > X_TEXT_LIMIT:
            return x_problem(
                400,
                "Invalid Request",
                f"The `text` field is too long: {x_length(text)} characters, "
                f"at most {X_TEXT_LIMIT}.",
            )
        reply = (body or {}).get("reply") or {}
        post = record(request, "tweet", text=text, in_reply_to=reply.get("in_reply_to_tweet_id"))
        return JSONResponse({"data": {"id": post["id"], "text": text}}, status_code=201)

    async def direct_message(request: Request) -> Response:
        if refused(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        body = await _json(request)
        text = body.get("text") if body else None
        if not isinstance(text, str) or not text:
            return x_problem(400, "Invalid Request", "The `text` field is required.")
        participant = request.path_params["participant_id"]
        post = record(request, "dm", text=text, recipient=participant)
        conversation = "-".join(sorted(["1000", participant], key=int))
        return JSONResponse(
            {"data": {"dm_conversation_id": conversation, "dm_event_id": post["id"]}},
            status_code=201,
        )

    async def user_by_username(request: Request) -> Response:
        if refused(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        username = request.path_params["username"]
        known = state.sender.users.get(username.lower())  # a customer who posted through the fake
        return JSONResponse(
            {"data": {"id": known or user_id(username), "name": username, "username": username}}
        )

    async def comment(request: Request) -> Response:
        if refused(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        body = await _json(request)
        message = body.get("message") if body else None
        if not isinstance(message, str) or not message:
            return graph_error(400, "(#100) Missing message", 100, "GraphMethodException")
        edge = request.url.path.rsplit("/", 1)[-1]
        kind = "private_reply" if edge == "private_replies" else "comment"
        object_id = request.path_params["object_id"]
        if kind == "private_reply":
            if object_id in state.private_replies:
                return _already_replied()
            state.private_replies.add(object_id)
        post = record(request, kind, text=message, in_reply_to=object_id)
        return JSONResponse({"id": post["id"]})

    async def page_post(request: Request) -> Response:
        """Graph's ``POST /{page-id}/feed`` (``{"message"}`` → ``{"id": "<page>_<post>"}``):
        a post on the brand's Page, recorded as kind ``page_post``."""
        if refused(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        body = await _json(request)
        message = body.get("message") if body else None
        if not isinstance(message, str) or not message:
            return graph_error(400, "(#100) Missing message", 100, "GraphMethodException")
        page = request.path_params["object_id"]
        post = record(request, "page_post", text=message, page=page)
        post["id"] = f"{page}_{post['id']}"
        return JSONResponse({"id": post["id"]})

    async def mention_reply(request: Request) -> Response:
        """Instagram's ``POST /{ig-user}/mentions``: a comment under the media (or the comment)
        that @mentioned the account."""
        if refused(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        body = await _json(request) or {}
        media, message = body.get("media_id"), body.get("message")
        if not isinstance(media, str) or not media or not isinstance(message, str) or not message:
            return graph_error(
                400, "(#100) media_id and message are required", 100, "GraphMethodException"
            )
        comment = body.get("comment_id")
        post = record(
            request, "mention_reply", text=message, in_reply_to=comment or media, media=media
        )
        return JSONResponse({"id": post["id"]})

    async def messages(request: Request) -> Response:
        if refused(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        body = await _json(request) or {}
        recipient = body.get("recipient") or {}
        text = (body.get("message") or {}).get("text")
        comment = recipient.get("comment_id")
        to = recipient.get("id") or comment
        attachment = (body.get("message") or {}).get("attachment")
        if body.get("tag") == "CUSTOMER_FEEDBACK" and attachment is None:
            return graph_error(400, "(#100) the CUSTOMER_FEEDBACK tag is for that template", 100)
        if attachment is not None and to and not comment:
            wrong = feedback_template_problem(attachment)
            if wrong is not None:
                return graph_error(400, f"(#100) {wrong}", 100)
            post = record(
                request,
                "message",
                text="",
                recipient=to,
                messaging_type=body.get("messaging_type"),
                tag=body.get("tag"),
                template=attachment["payload"],
            )
            return JSONResponse({"recipient_id": to, "message_id": f"m_{post['id']}"})
        if not to or not isinstance(text, str) or not text:
            return graph_error(400, "(#100) recipient and message.text are required", 100)
        if len(text) > MESSENGER_TEXT_LIMIT:
            return graph_error(
                400,
                f"(#100) Length of param message[text] must be less than or equal to "
                f"{MESSENGER_TEXT_LIMIT}",
                100,
                "GraphMethodException",
            )
        if comment and not recipient.get("id"):
            if comment in state.private_replies:
                return _already_replied()
            state.private_replies.add(comment)
        post = record(
            request,
            "private_reply" if comment and not recipient.get("id") else "message",
            text=text,
            recipient=to,
            messaging_type=body.get("messaging_type"),
            tag=body.get("tag"),
        )
        return JSONResponse({"recipient_id": to, "message_id": f"m_{post['id']}"})

    async def chat_session(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        key = request.headers.get("idempotency-key")
        if key and key in state.chat_keys:
            return JSONResponse(_chat_answer(request, state.chats[state.chat_keys[key]]))
        post = record(
            request,
            "chat_session",
            text=body.get("reason"),
            body=body,
            headers={
                name: value
                for name, value in request.headers.items()
                if name.startswith("x-careflow-")
                or name in ("content-type", "idempotency-key", "authorization")
            },
        )
        session = {
            "id": f"chat-{post['id']}",
            "created_at": post["at"],
            "agent": body.get("agent"),
            "customer": body.get("customer"),
            "channel": body.get("channel"),
            "conversation_id": body.get("conversation_id"),
            "reason": body.get("reason"),
            "transcript": body.get("transcript") or [],
        }
        state.chats[session["id"]] = session
        if key:
            state.chat_keys[key] = session["id"]
        return JSONResponse(_chat_answer(request, session), status_code=201)

    async def chat(request: Request) -> Response:
        session = state.chats.get(request.path_params["session_id"])
        if session is None:
            return JSONResponse({"error": "no such chat session"}, status_code=404)
        return JSONResponse({**session, "url": _chat_url(request, session["id"])})

    async def hook(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        record(
            request,
            "webhook",
            text=body.get("text") if isinstance(body, dict) else None,
            body=raw.decode("utf-8", "replace"),
            headers={
                name: value
                for name, value in request.headers.items()
                if name.startswith("x-careflow-") or name == "content-type"
            },
        )
        return PlainTextResponse("ok")

    async def posts(request: Request) -> Response:
        if request.method == "DELETE":
            state.posts.clear()
            state.faults.clear()
            state.private_replies.clear()
            state.chats.clear()
            state.chat_keys.clear()
            return Response(status_code=204)
        if wants_html(request.headers.get("accept", "")):
            return HTMLResponse(posts_page(state.posts))  # a person in a browser
        return JSONResponse(state.posts)

    async def page(request: Request) -> Response:
        return HTMLResponse(posts_page(state.posts))

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"pending": sum(f.count for f in state.faults)})
        body = await _json(request)
        if body is None:
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        try:
            fault = Fault(
                count=int(body.get("count", 1)),
                status=int(body["status"]) if body.get("status") is not None else None,
                retry_after=int(body["retry_after"]) if "retry_after" in body else None,
                delay=float(body.get("delay", 0)),
                drop=body.get("drop", False),
                skip=int(body.get("skip", 0)),
            )
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        if fault.drop not in (False, True, "before", "after"):
            return JSONResponse({"error": 'drop is true, "before" or "after"'}, status_code=400)
        state.faults.append(fault)
        return JSONResponse({"pending": sum(f.count for f in state.faults)}, status_code=201)

    async def oauth_token(request: Request) -> Response:
        """X's ``POST /2/oauth2/token`` with ``grant_type=refresh_token`` (form-encoded)."""
        oauth = state.oauth
        form = {
            key: values[-1] for key, values in parse_qs((await request.body()).decode()).items()
        }
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", "Only refresh_token is served here.")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        basic = ""
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                basic = base64.b64decode(credentials).decode()
        client = basic.partition(":")[0] or form.get("client_id")
        if oauth.client_secret is not None and basic != f"{oauth.client_id}:{oauth.client_secret}":
            return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        if oauth.client_id is not None and client != oauth.client_id:
            return _oauth_error(400, "invalid_request", "Missing required parameter [client_id].")
        given = form.get("refresh_token")
        if not given or given not in oauth.refresh_tokens:
            oauth.refused += 1
            return _oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        oauth.refresh_tokens.discard(given)  # rotation: a refresh token works once
        access, refresh = f"fake-access-{secrets.token_urlsafe(16)}", secrets.token_urlsafe(24)
        oauth.refresh_tokens.add(refresh)
        oauth.access[access] = time.monotonic() + oauth.lifetime
        oauth.refreshes += 1
        return JSONResponse(
            {
                "token_type": "bearer",
                "expires_in": oauth.lifetime,
                "access_token": access,
                "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
                "refresh_token": refresh,
            }
        )

    async def oauth_setup(request: Request) -> Response:
        oauth = state.oauth
        if request.method == "POST":
            body = await _json(request)
            if body is None:
                return JSONResponse({"error": "send a JSON object"}, status_code=400)
            if body.get("refresh_token"):
                oauth.refresh_tokens.add(str(body["refresh_token"]))
            if "expires_in" in body:
                oauth.lifetime = float(body["expires_in"])
            for name in ("client_id", "client_secret"):
                if name in body:
                    setattr(oauth, name, body[name])
            if body.get("expire_all"):  # every access token issued so far stops working now
                oauth.access.clear()
        return JSONResponse({"refreshes": oauth.refreshes, "refused": oauth.refused})

    return Starlette(
        routes=[
            Route("/2/oauth2/token", oauth_token, methods=["POST"]),
            Route("/_fake/oauth", oauth_setup, methods=["GET", "POST"]),
            Route("/2/tweets", tweets, methods=["POST"]),
            Route(
                "/2/dm_conversations/with/{participant_id}/messages",
                direct_message,
                methods=["POST"],
            ),
            Route("/2/users/by/username/{username}", user_by_username, methods=["GET"]),
            Route("/{version}/me/messages", messages, methods=["POST"]),
            Route("/{version}/{object_id}/comments", comment, methods=["POST"]),
            Route("/{version}/{object_id}/replies", comment, methods=["POST"]),
            Route("/{version}/{object_id}/mentions", mention_reply, methods=["POST"]),
            Route("/{version}/{object_id}/private_replies", comment, methods=["POST"]),
            Route("/{version}/{object_id}/feed", page_post, methods=["POST"]),
            Route("/hooks/{name:path}", hook, methods=["POST"]),
            Route("/chat/sessions", chat_session, methods=["POST"]),
            Route("/chat/{session_id}", chat, methods=["GET"]),
            *read_routes(lambda: state.posts, lambda request: not refused(request)),
            Route("/_fake/posts", posts, methods=["GET", "DELETE"]),
            Route("/_fake/", page, methods=["GET"]),
            Route("/_fake", page, methods=["GET"]),
            Route("/_fake/faults", faults, methods=["GET", "POST"]),
            Route("/_fake/webhooks", state.sender.endpoint, methods=["POST"]),
            profile_route(lambda request: not refused(request)),  # any /{a}/{b}: last
        ]
    )
