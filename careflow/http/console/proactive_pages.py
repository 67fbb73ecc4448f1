"""The console's proactive posts for supervisors (``/supervisor/proactive``): the trend watch's
drafts, awaiting ones first, each approved (with the text as edited) or rejected with a reason.

Decisions are ``careflow.temporal.proactive``'s, the API's and the CLI's calls, so a draft
decided or expired already is refused by the workflow's validator, said on the page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from careflow.http.agent import TEMPORAL_ERRORS, explain_failure
from careflow.http.console.kit import Kit, plain
from careflow.http.tokens import Role
from careflow.temporal import proactive

log = logging.getLogger("careflow.http.console")
SUPERVISORS: frozenset[Role] = frozenset({"supervisor"})
DONE = {"approve": "Approved: the post went out.", "reject": "Rejected: nothing was posted."}


def expires_in(expires_at: datetime | None, now: datetime) -> str:
    """An awaiting draft's time left, as people say it."""
    if expires_at is None:
        return "—"
    left = int((expires_at - now).total_seconds())
    if left <= 0:
        return "expiring now"
    hours, minutes = divmod(max(1, left // 60), 60)
    return f"expires in {hours} h {minutes} min" if hours else f"expires in {minutes} min"


def proactive_routes(kit: Kit) -> list[Route]:
    """``GET /supervisor/proactive`` and ``POST /supervisor/proactive/{id}/approve|reject``."""

    async def listing(
        request: Request, found: Any, code: int = 200, error: str | None = None, post: str = ""
    ) -> Response:
        client = await kit.client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            posts = await proactive.list_proactive(client)
        except TEMPORAL_ERRORS as failed:
            status_code, message = explain_failure(failed, None)
            return kit.problem(request, status_code, message, found)
        now = datetime.now(UTC)
        done = DONE.get(request.query_params.get("done", "")) if code == 200 else None
        return kit.page(
            request,
            "proactive.html",
            code,
            me=found,
            posts=posts,
            left={p.id: expires_in(p.expires_at, now) for p in posts},
            done=done,
            error=error,
            error_post=post,
        )

    async def proactive_page(request: Request) -> Response:
        found = kit.signed_in(request, SUPERVISORS, "decide proactive posts")
        if isinstance(found, Response):
            return found
        return await listing(request, found)

    async def decide(request: Request) -> Response:
        decision, post_id = request.path_params["decision"], request.path_params["id"]
        if decision not in ("approve", "reject"):  # a typo must never reject a draft
            return kit.problem(request, 404, f"there is no decision {decision!r}")
        posted = await kit.posted(request, SUPERVISORS, "decide proactive posts")
        if isinstance(posted, Response):
            return posted
        found, fields = posted
        client = await kit.client_or_page(request, found)
        if isinstance(client, Response):
            return client
        me = found.caller.name
        try:
            if decision == "approve":
                text = fields.get("text", "").replace("\r\n", "\n")
                edited = None if text.strip() == fields.get("draft", "").strip() else text
                await proactive.approve(client, post_id, me, edited)
            else:
                await proactive.reject(client, post_id, me, fields.get("reason", ""))
        except TEMPORAL_ERRORS as failed:
            status_code, message = explain_failure(failed, post_id)
            if status_code == 404:
                message = f"there is no proactive post {post_id!r}"
            elif status_code == 409 and message.endswith("is closed"):  # its workflow ended
                message = "this draft was decided or expired already: nothing to decide"
            return await listing(request, found, status_code, plain(message), post_id)
        log.info("%s (supervisor): %s proactive post %s in the console", me, decision, post_id)
        target = f"/supervisor/proactive?done={decision}#{quote(post_id, safe='')}"
        return RedirectResponse(target, status_code=303)

    return [
        Route("/supervisor/proactive", proactive_page, methods=["GET"]),
        Route("/supervisor/proactive/{id}/{decision}", decide, methods=["POST"]),
    ]
