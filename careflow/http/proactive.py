"""``GET /proactive`` and ``POST /proactive/{id}/approve|reject``: the trend watch's drafts
and a supervisor's decision (only the supervisor role; the bearer tokens of the agent API)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from careflow.channels.common import validation_problems
from careflow.http.body import NotBlank, read_body
from careflow.http.lent import Authorize, ClientOr503, Failure
from careflow.http.tokens import Role
from careflow.temporal import proactive

SUPERVISORS: frozenset[Role] = frozenset({"supervisor"})
MAX_BODY = 64 * 1024  # a post's edited text


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: NotBlank | None = None


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: NotBlank


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def proactive_routes(
    authorize: Authorize,
    client_or_503: ClientOr503,
    failure: Failure,
    errors: tuple[type[BaseException], ...],
) -> list[BaseRoute]:
    """The routes, sharing the agent API's authorization, client and error answers."""

    async def listing(request: Request) -> Response:
        """
        summary: The proactive posts the trend watch drafted, awaiting ones first.
        description: Roles - supervisor.
        security: [{bearer: []}]
        responses:
          200: {description: "Each post's id, trend, segment, status, draft and counts"}
          401: {description: "No or unknown bearer token"}
          403: {description: "Not a supervisor"}
        """
        caller = authorize(request, SUPERVISORS, "see proactive posts")
        if isinstance(caller, Response):
            return caller
        client = await client_or_503()
        if isinstance(client, Response):
            return client
        try:
            found = await proactive.list_proactive(client)
        except errors as error:
            return failure(error, None)
        return JSONResponse([s.model_dump(mode="json") for s in found])

    async def decide(request: Request) -> Response:
        """
        summary: Approve (optionally with edited text) or reject (with a reason) a draft.
        description: Roles - supervisor. Body {"text"?} to approve, {"reason"} to reject.
        security: [{bearer: []}]
        responses:
          200: {description: "The post's status after the decision"}
          404: {description: "No proactive post with this id, or a decision not approve or reject"}
          409: {description: "Decided or expired already"}
          422: {description: "A body that is not valid"}
        """
        caller = authorize(request, SUPERVISORS, "decide proactive posts")
        if isinstance(caller, Response):
            return caller
        post_id, decision = request.path_params["id"], request.path_params["decision"]
        if decision not in ("approve", "reject"):  # a typo must never reject a draft
            return _error(404, f"no decision {decision!r}: POST …/approve or …/reject")
        raw = await read_body(request, MAX_BODY)
        if raw is None:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        client = await client_or_503()
        if isinstance(client, Response):
            return client
        try:
            if decision == "approve":
                approve = ApproveBody.model_validate_json(raw.strip() or b"{}")
                result = await proactive.approve(client, post_id, caller.name, approve.text)
            else:
                reject = RejectBody.model_validate_json(raw.strip() or b"{}")
                result = await proactive.reject(client, post_id, caller.name, reject.reason)
        except ValidationError as error:
            problems = validation_problems(error)
            return _error(422, f"the {decision} body is not valid", problems=problems)
        except errors as error:
            return failure(error, post_id)
        return JSONResponse(result.model_dump(mode="json"))

    return [
        Route("/proactive", listing, methods=["GET"]),
        Route("/proactive/{id}/{decision:str}", decide, methods=["POST"]),
    ]
