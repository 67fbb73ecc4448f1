"""The console's quality reviews (``/reviews``): the queue for reviewers and supervisors, an
agent's own open reviews, and one review's page where a reviewer scores it, the reviewed agent
disputes it within the window and a supervisor settles a disputed one.

Each step is ``careflow.temporal.qa``'s, the API's and the CLI's call, named by the signed-in
caller; the review workflow's validator refuses bad scores and steps out of turn, said on the
page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from careflow.errors import CareflowError
from careflow.http.agent import TEMPORAL_ERRORS, explain_failure
from careflow.http.console.kit import Kit, plain
from careflow.http.console.session import Session
from careflow.http.tokens import Role
from careflow.temporal import qa
from workflows.qa import DisputeRequest, QaReview, ScoreRequest, SettleRequest

log = logging.getLogger("careflow.http.console")
SCORERS: frozenset[Role] = frozenset({"reviewer", "supervisor"})
SUPERVISORS: frozenset[Role] = frozenset({"supervisor"})
AGENTS: frozenset[Role] = frozenset({"agent"})
READERS: frozenset[Role] = frozenset({"reviewer", "supervisor", "agent"})
DONE = {"score": "Scored.", "dispute": "Disputed: a supervisor settles it.", "settle": "Settled."}
ERRORS = (*TEMPORAL_ERRORS, CareflowError)


class BadForm(Exception):
    """A score that is not a whole number: said on the page, nothing sent."""


def scores_of(fields: dict[str, str]) -> dict[str, int]:
    """The form's ``score-<criterion>`` fields that hold a score (blank ones left out)."""
    scores: dict[str, int] = {}
    for key, value in fields.items():
        if key.startswith("score-") and value.strip():
            name = key.removeprefix("score-")
            if not value.strip().isdigit():
                raise BadForm(f"{name}: {value!r} is not a whole number")
            scores[name] = int(value)
    return scores


def dispute_until(review: QaReview) -> datetime | None:
    """When the agent's window to dispute a scored review ends."""
    if review.scored_at is None:
        return None
    return review.scored_at + timedelta(seconds=review.input.dispute_within_seconds)


def explained(failed: BaseException, inquiry: str) -> tuple[int, str]:
    """The status code and sentence for a failed step; careflow's own sentence with no Temporal
    failure behind it (an inquiry not sampled, no such review) is a 404."""
    if isinstance(failed, CareflowError) and failed.__cause__ is None:
        return 404, str(failed)
    return explain_failure(failed, inquiry)


def review_routes(kit: Kit) -> list[Route]:
    """``GET /reviews``, ``GET /reviews/{inquiry}``, ``POST /reviews/{inquiry}/score|dispute|
    settle``."""

    async def queue_page(request: Request) -> Response:
        found = kit.signed_in(request, READERS, "see reviews")
        if isinstance(found, Response):
            return found
        client = await kit.client_or_page(request, found)
        if isinstance(client, Response):
            return client
        role, me = found.caller.role, found.caller.name
        try:
            if role == "agent":
                waiting = []
                open_ = [r for r in await qa.queue(client, None) if r.agent == me]
            else:
                waiting = await qa.queue(client)
                open_ = await qa.queue(client, "disputed") if role == "supervisor" else []
        except TEMPORAL_ERRORS as failed:
            status_code, message = explain_failure(failed, None)
            return kit.problem(request, status_code, message, found)
        return kit.page(request, "reviews.html", me=found, waiting=waiting, others=open_)

    async def review_page(
        request: Request,
        found: Session,
        inquiry: str,
        code: int = 200,
        error: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> Response:
        client = await kit.client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            review = await qa.show(client, inquiry)
        except ERRORS as failed:
            return shown_failure(request, found, failed, inquiry)
        if found.caller.role == "agent" and review.input.agent != found.caller.name:
            message = "an agent may see only the reviews of their own inquiries"
            return kit.problem(request, 403, message, found)
        context: dict[str, Any] = {
            "me": found,
            "r": review,
            "inquiry": inquiry,
            "until": dispute_until(review),
            "now": datetime.now(UTC),
            "done": DONE.get(request.query_params.get("done", "")) if code == 200 else None,
            "error": error,
            "fields": fields or {},
        }
        return kit.page(request, "review.html", code, **context)

    def shown_failure(
        request: Request, found: Session, failed: BaseException, inquiry: str
    ) -> Response:
        status_code, message = explained(failed, inquiry)
        return kit.problem(request, status_code, plain(message), found)

    async def one(request: Request) -> Response:
        found = kit.signed_in(request, READERS, "see reviews")
        if isinstance(found, Response):
            return found
        return await review_page(request, found, request.path_params["id"])

    async def step(request: Request) -> Response:
        name, inquiry = request.path_params["step"], request.path_params["id"]
        roles = {"score": SCORERS, "dispute": AGENTS, "settle": SUPERVISORS}.get(name)
        if roles is None:
            return kit.problem(request, 404, f"there is no review step {name!r}")
        posted = await kit.posted(request, roles, f"{name} reviews")
        if isinstance(posted, Response):
            return posted
        found, fields = posted
        client = await kit.client_or_page(request, found)
        if isinstance(client, Response):
            return client
        me = found.caller.name
        try:
            scores = scores_of(fields)
            if name == "score":
                score = ScoreRequest(reviewer=me, scores=scores, note=fields.get("note", ""))
                await qa.score(client, inquiry, score)
            elif name == "dispute":
                dispute = DisputeRequest(agent=me, reason=fields.get("reason", ""))
                await qa.dispute(client, inquiry, dispute)
            else:
                settle = SettleRequest(supervisor=me, note=fields.get("note", ""), scores=scores)
                await qa.settle(client, inquiry, settle)
        except BadForm as wrong:
            return await review_page(request, found, inquiry, 422, f"Not sent: {wrong}.", fields)
        except ERRORS as failed:
            status_code, message = explained(failed, inquiry)
            # The workflow's sentence as it is: it may start with a criterion's name.
            return await review_page(request, found, inquiry, status_code, message, fields)
        log.info("%s (%s): review %s on %s in the console", me, found.caller.role, name, inquiry)
        return RedirectResponse(f"/reviews/{quote(inquiry, safe='/')}?done={name}", 303)

    return [
        Route("/reviews", queue_page, methods=["GET"]),
        Route("/reviews/{id:path}/{step:str}", step, methods=["POST"]),
        Route("/reviews/{id:path}", one, methods=["GET"]),
    ]
