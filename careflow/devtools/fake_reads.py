"""The fake platform's read side: the brand's own posts, listed back as X and Meta list them.

careflow reads these only to reconcile a retry (did an earlier attempt post this already?), so
they are shaped like the real answers, not like careflow's assumptions:

- X API v2 ``GET /2/users/me`` → ``{"data": {"id", "name", "username"}}``; ``GET
  /2/users/{id}/tweets`` (``start_time``, ``max_results``, ``pagination_token``) → ``{"data":
  [{"id", "text", "created_at", "author_id", "referenced_tweets": [{"type": "replied_to",
  "id"}]}], "meta": {"result_count", "next_token"}}``, newest first. X shows text back as it
  stores it: ``&``, ``<`` and ``>`` as HTML entities and every link as a ``t.co`` link;
- X ``GET /2/dm_conversations/with/{participant}/dm_events`` → ``{"data": [{"id", "text",
  "event_type": "MessageCreate", "sender_id", "created_at", "dm_conversation_id"}], "meta"}``;
- Graph ``GET /me`` (with a Page token: the Page, and ``instagram_business_account``), ``GET
  /{comment}/comments`` (Facebook: ``{"data": [{"id", "message", "from": {"id", "name"},
  "created_time"}], "paging"}``), ``GET /{comment}/replies`` (Instagram: ``"text"``,
  ``"timestamp"``, ``"from": {"id", "username"}``) and ``GET /me/conversations?user_id=…&platform=…``
  (``{"data": [{"id", "messages": {"data": [{"id", "message", "from", "created_time"}]}}]}``).
  Graph times are ``2026-11-30T18:31:02+0000``. ``GET /{page-id}/feed`` lists the Page's own
  posts (``{"data": [{"id", "message", "created_time"}], "paging"}``).
- Graph ``GET /{PSID or IGSID}?fields=…``, Meta's User Profile APIs (Messenger: ``first_name``,
  ``last_name``, ``name``, ``profile_pic``; Instagram: ``name``, ``username``, ``profile_pic``):
  the fields asked for, with ``id``, for a made-up person stable per id (``made_up_profile``).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from careflow.devtools.fake_webhooks import BRAND_INSTAGRAM_ID, BRAND_PAGE_ID, BRAND_X_USER_ID

Posts = Callable[[], list[dict[str, Any]]]
Authorized = Callable[[Request], bool]


def x_problem(status: int, title: str, detail: str) -> JSONResponse:
    """X API v2's error shape (an RFC 7807 problem)."""
    return JSONResponse(
        {"title": title, "detail": detail, "type": "about:blank", "status": status},
        status_code=status,
    )


def graph_error(status: int, message: str, code: int, kind: str = "OAuthException") -> Response:
    """The Graph API's error shape."""
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": code}}, status_code=status
    )


def as_x_shows(text: str) -> str:
    """A text as X lists it back: entities escaped, links shortened to ``t.co``."""
    words = []
    for word in html.escape(text, quote=False).split(" "):
        if word.lower().startswith(("http://", "https://")):
            word = "https://t.co/" + hashlib.sha256(word.encode()).hexdigest()[:10]
        words.append(word)
    return " ".join(words)


def _x_time(at: str) -> str:
    return datetime.fromisoformat(at).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _graph_time(at: str) -> str:
    return datetime.fromisoformat(at).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _x_page(request: Request, items: list[dict[str, Any]]) -> Response:
    """One page of an X list, newest first, ``pagination_token`` an offset."""
    try:
        size = max(1, min(100, int(request.query_params.get("max_results", "100"))))
        offset = int(request.query_params.get("pagination_token") or 0)
    except ValueError:
        return x_problem(400, "Invalid Request", "max_results and pagination_token are numbers")
    page = items[offset : offset + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if offset + size < len(items):
        meta["next_token"] = str(offset + size)
    return JSONResponse({"data": page, "meta": meta} if page else {"meta": meta})


def read_routes(posts: Posts, authorized: Authorized) -> list[Route]:
    """The read endpoints over the fake's recorded posts."""

    def newest(kind: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [post for post in reversed(posts()) if post["kind"] == kind and keep(post)]

    async def x_me(request: Request) -> Response:
        if not authorized(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        return JSONResponse({"data": {"id": BRAND_X_USER_ID, "name": "Acme", "username": "acme"}})

    async def x_tweets(request: Request) -> Response:
        if not authorized(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        if request.path_params["user_id"] != BRAND_X_USER_ID:
            return JSONResponse({"meta": {"result_count": 0}})
        start = request.query_params.get("start_time")
        try:
            since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        except ValueError:
            return x_problem(400, "Invalid Request", f"start_time is not a time: {start}")
        items = [
            {
                "id": post["id"],
                "text": as_x_shows(post["text"]),
                "created_at": _x_time(post["at"]),
                "author_id": BRAND_X_USER_ID,
                **(
                    {"referenced_tweets": [{"type": "replied_to", "id": post["in_reply_to"]}]}
                    if post.get("in_reply_to")
                    else {}
                ),
            }
            for post in newest(
                "tweet", lambda post: since is None or datetime.fromisoformat(post["at"]) >= since
            )
        ]
        return _x_page(request, items)

    async def x_dm_events(request: Request) -> Response:
        if not authorized(request):
            return x_problem(401, "Unauthorized", "Unauthorized")
        participant = request.path_params["participant_id"]
        conversation = "-".join(sorted([BRAND_X_USER_ID, participant]))
        items = [
            {
                "id": post["id"],
                "text": as_x_shows(post["text"]),
                "event_type": "MessageCreate",
                "sender_id": BRAND_X_USER_ID,
                "created_at": _x_time(post["at"]),
                "dm_conversation_id": conversation,
            }
            for post in newest("dm", lambda post: post.get("recipient") == participant)
        ]
        return _x_page(request, items)

    async def graph_me(request: Request) -> Response:
        if not authorized(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        return JSONResponse(
            {
                "id": BRAND_PAGE_ID,
                "name": "Acme",  # asked for by careflow doctor (fields=id,name)
                "instagram_business_account": {"id": BRAND_INSTAGRAM_ID},
            }
        )

    async def comments(request: Request) -> Response:
        if not authorized(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        object_id = request.path_params["object_id"]
        instagram = request.url.path.endswith("/replies")
        found = newest(
            "comment",
            lambda post: (
                post.get("in_reply_to") == object_id
                and post["path"].endswith("/replies") == instagram
            ),
        )
        if instagram:
            data = [
                {
                    "id": post["id"],
                    "text": post["text"],
                    "timestamp": _graph_time(post["at"]),
                    "from": {"id": BRAND_INSTAGRAM_ID, "username": "acme"},
                }
                for post in found
            ]
        else:
            data = [
                {
                    "id": post["id"],
                    "message": post["text"],
                    "from": {"id": BRAND_PAGE_ID, "name": "Acme"},
                    "created_time": _graph_time(post["at"]),
                }
                for post in found
            ]
        return JSONResponse({"data": data, "paging": {"cursors": {}}})

    async def feed(request: Request) -> Response:
        """Graph's ``GET /{page-id}/feed``: the Page's own posts, newest first."""
        if not authorized(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        page = request.path_params["object_id"]
        data = [
            {"id": post["id"], "message": post["text"], "created_time": _graph_time(post["at"])}
            for post in newest("page_post", lambda post: post.get("page") == page)
        ]
        return JSONResponse({"data": data, "paging": {"cursors": {}}})

    async def conversations(request: Request) -> Response:
        if not authorized(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        user = request.query_params.get("user_id")
        if not user:
            return graph_error(400, "(#100) user_id is required here", 100, "GraphMethodException")
        page = (
            BRAND_INSTAGRAM_ID
            if request.query_params.get("platform") == "instagram"
            else BRAND_PAGE_ID
        )
        messages = [
            {
                "id": f"m_{post['id']}",
                "message": post["text"],
                "from": {"id": page},
                "created_time": _graph_time(post["at"]),
            }
            for post in newest("message", lambda post: post.get("recipient") == user)
        ]
        data = [{"id": f"t_{user}", "messages": {"data": messages}}] if messages else []
        return JSONResponse({"data": data, "paging": {"cursors": {}}})

    return [
        Route("/2/users/me", x_me, methods=["GET"]),
        Route("/2/users/{user_id}/tweets", x_tweets, methods=["GET"]),
        Route("/2/dm_conversations/with/{participant_id}/dm_events", x_dm_events, methods=["GET"]),
        Route("/{version}/me", graph_me, methods=["GET"]),
        Route("/{version}/me/conversations", conversations, methods=["GET"]),
        Route("/{version}/{object_id}/comments", comments, methods=["GET"]),
        Route("/{version}/{object_id}/replies", comments, methods=["GET"]),
        Route("/{version}/{object_id}/feed", feed, methods=["GET"]),
    ]


def profile_route(authorized: Authorized) -> Route:
    """Graph ``GET /{version}/{PSID or IGSID}``: it matches any two segments, so it goes last,
    after ``/{version}/me`` and the fake's own ``/_fake/…`` routes."""

    async def profile(request: Request) -> Response:
        """Meta's User Profile API for a PSID or IGSID: a made-up name, stable per id."""
        if not authorized(request):
            return graph_error(401, "Invalid OAuth access token.", 190)
        person = request.path_params["object_id"]
        fields = (request.query_params.get("fields") or "name").split(",")
        found = {key: value for key, value in made_up_profile(person).items() if key in fields}
        return JSONResponse({"id": person, **found})

    return _GraphObjectRoute("/{version}/{object_id}", profile, methods=["GET"])


class _GraphObjectRoute(Route):
    """Matches ``/v21.0/<id>`` only, so other two-segment paths stay 404, not 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not re.fullmatch(r"/v\d+(\.\d+)?/[^/]+", scope.get("path", "")):
            return Match.NONE, {}
        return super().matches(scope)


FIRST_NAMES = ("Ada", "Bo", "Chidi", "Dana", "Emil", "Farah", "Gus", "Hana", "Ivo", "Jun")
LAST_NAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kim")


def made_up_profile(person: str) -> dict[str, str]:
    """A profile as the User Profile APIs answer it (Messenger: ``first_name``, ``last_name``,
    ``name``; Instagram: ``name``, ``username``), the same for one id every time."""
    digest = hashlib.sha256(person.encode()).digest()
    first, last = FIRST_NAMES[digest[0] % len(FIRST_NAMES)], LAST_NAMES[digest[1] % len(LAST_NAMES)]
    return {
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "username": f"{first}.{last}".lower(),
        "profile_pic": f"https://example.com/profile/{digest.hex()[:12]}.jpg",
    }
