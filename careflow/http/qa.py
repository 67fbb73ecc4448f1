"""The agent API's quality reviews: ``GET /qa/queue``, ``GET /qa/{inquiry}`` and
``POST /qa/{inquiry}/review|dispute|settle``, each for its roles.

A ``reviewer`` or a ``supervisor`` scores; the reviewed agent (role ``agent``, their own name)
disputes; a ``supervisor`` settles. The caller's name comes from their token, never the body,
so who scored, disputed or settled is who was authenticated. The review workflow refuses bad
scores (unknown criterion, off the scale, a criterion missing) with a 409 and records nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from temporalio.client import Client

from careflow.channels.common import validation_problems
from careflow.http.lent import Authorize, ClientOr503, Failure
from careflow.http.tokens import Caller, Role
from careflow.temporal import qa
from workflows.qa import DisputeRequest, QaReview, ScoreRequest, SettleRequest

log = logging.getLogger("careflow.api")

REVIEWERS: frozenset[Role] = frozenset({"reviewer", "supervisor"})
SUPERVISORS: frozenset[Role] = frozenset({"supervisor"})
AGENTS: frozenset[Role] = frozenset({"agent"})
MAX_BODY = 64 * 1024  # scores and a note
QA_READERS: frozenset[Role] = frozenset({"reviewer", "supervisor", "auditor", "agent"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ReviewBody(_Body):
    scores: Annotated[dict[str, int], Field(min_length=1)]
    note: str = ""


class DisputeBody(_Body):
    reason: Annotated[str, Field(min_length=1)]


class SettleBody(_Body):
    note: Annotated[str, Field(min_length=1)]
    scores: dict[str, int] = {}


def qa_routes(
    authorize: Authorize,
    client_or_503: ClientOr503,
    failure: Failure,
    errors: tuple[type[BaseException], ...],
) -> list[BaseRoute]:
    """The routes, sharing the agent API's authorization, client and error answers."""

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def queue(request: Request) -> Response:
        """
        summary: Quality reviews waiting for a reviewer, oldest first. Roles - reviewer, supervisor.
        """
        caller = authorize(request, REVIEWERS, "see the review queue")
        if isinstance(caller, JSONResponse):
            return caller
        client = await client_or_503()
        if isinstance(client, JSONResponse):
            return client
        try:
            found = await qa.queue(client)
        except errors as problem:
            return failure(problem, None)
        return JSONResponse([r.model_dump(mode="json") for r in found])

    async def show(request: Request) -> Response:
        """
        summary: One review - rubric, scores, note, and who did what when. Roles - all (an agent, their own).
        """
        caller = authorize(request, QA_READERS, "see reviews")
        if isinstance(caller, JSONResponse):
            return caller
        client = await client_or_503()
        if isinstance(client, JSONResponse):
            return client
        inquiry = request.path_params["id"]
        try:
            review = await qa.show(client, inquiry)
        except errors as problem:
            return failure(problem, inquiry)
        if caller.role == "agent" and review.input.agent != caller.name:
            return error(403, "an agent may see only the reviews of their own inquiries")
        return JSONResponse(review.model_dump(mode="json"))

    def step(
        roles: frozenset[Role],
        what: str,
        body: type[_Body],
        run: Callable[[Client, str, Any, Caller], Awaitable[QaReview]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            caller = authorize(request, roles, what)
            if isinstance(caller, JSONResponse):
                return caller
            raw = await request.body()
            if len(raw) > MAX_BODY:
                return error(413, f"the body is larger than {MAX_BODY} bytes")
            try:
                parsed = body.model_validate_json(raw.strip() or b"{}")
            except ValidationError as invalid:
                return JSONResponse(
                    {"error": "the body is not valid", "problems": validation_problems(invalid)},
                    status_code=422,
                )
            client = await client_or_503()
            if isinstance(client, JSONResponse):
                return client
            inquiry = request.path_params["id"]
            try:
                review = await run(client, inquiry, parsed, caller)
            except errors as problem:
                return failure(problem, inquiry)
            log.info("%s (%s): qa %s on %s", caller.name, caller.role, what, inquiry)
            return JSONResponse(review.model_dump(mode="json"))

        endpoint.__doc__ = f"\n        summary: {what[0].upper()}{what[1:]}.\n        "
        return endpoint

    async def review(client: Client, inquiry: str, body: ReviewBody, caller: Caller) -> QaReview:
        return await qa.score(
            client, inquiry, ScoreRequest(reviewer=caller.name, scores=body.scores, note=body.note)
        )

    async def dispute(client: Client, inquiry: str, body: DisputeBody, caller: Caller) -> QaReview:
        return await qa.dispute(
            client, inquiry, DisputeRequest(agent=caller.name, reason=body.reason)
        )

    async def settle(client: Client, inquiry: str, body: SettleBody, caller: Caller) -> QaReview:
        request = SettleRequest(supervisor=caller.name, note=body.note, scores=body.scores)
        return await qa.settle(client, inquiry, request)

    return [
        Route("/qa/queue", queue, methods=["GET"]),
        Route(
            "/qa/{id:path}/review",
            step(REVIEWERS, "score a review (reviewers and supervisors)", ReviewBody, review),
            methods=["POST"],
        ),
        Route(
            "/qa/{id:path}/dispute",
            step(AGENTS, "dispute a review of your own inquiry (agents)", DisputeBody, dispute),
            methods=["POST"],
        ),
        Route(
            "/qa/{id:path}/settle",
            step(SUPERVISORS, "settle a disputed review (supervisors)", SettleBody, settle),
            methods=["POST"],
        ),
        Route("/qa/{id:path}", show, methods=["GET"]),
    ]
