"""The agent API: the queue, one inquiry's status and the agents' actions over HTTP.

Every route needs ``Authorization: Bearer <token>`` (``careflow.http.tokens``): no token or an
unknown one is 401, a role that may not do this is 403. An auditor reads (``GET``); an agent
reads and acts, always under the token's name (the body never says who acts); a supervisor does
everything. The one supervisor-only action is assigning an inquiry to someone else: an agent's
``assign`` may only take the inquiry for themselves (the assignee defaults to the caller).

Errors are JSON ``{"error": ...}``, never a traceback: 422 when the request itself is invalid
(a body field, with ``problems`` naming each field, or a query parameter), 404 for an unknown
inquiry, 409 when the workflow refuses the action as it stands (its update validator's
``ActionRejected`` sentence, e.g. already acknowledged, or a closed inquiry), 503 when Temporal
cannot be reached or no tokens are configured, 504 when no worker answers in time. The queue's
filters go into the visibility query, each value an escaped string literal
(``careflow.temporal.inquiries.quoted``), so a value can never add a clause.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
from temporalio.client import (
    Client,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError, RPCStatusCode

from careflow.channels.common import validation_problems
from careflow.errors import CareflowError
from careflow.http.body import NotBlank, read_body
from careflow.http.proactive import proactive_routes
from careflow.http.qa import qa_routes
from careflow.http.tokens import ENV, Caller, Role, TokenError, Tokens, load_tokens
from careflow.settings import ApiTokenSettings
from careflow.temporal import inquiries
from careflow.temporal.inquiries import (
    Action,
    BadQueueRequest,
    QueueFilters,
    RulesNotLoaded,
    decode_token,
    encode_token,
    list_open,
)
from workflows.actors import Actor, Channel
from workflows.inquiry import InquiryWorkflow
from workflows.messages import (
    AcknowledgeRequest,
    ActionResult,
    AssignRequest,
    EscalateRequest,
    InvitePrivateRequest,
    ReopenRequest,
    ReplyRequest,
    ResolveRequest,
)
from workflows.state import InquiryStatus

log = logging.getLogger("careflow.http.agent")
MAX_BODY = 64 * 1024  # an agent's reply, not a file upload
READERS: frozenset[Role] = frozenset({"auditor", "agent", "supervisor"})
ACTORS: frozenset[Role] = frozenset({"agent", "supervisor"})
QUEUE_FILTERS = ("queue", "category", "priority", "agent", "channel")
QUEUE_PARAMS = (*QUEUE_FILTERS, "unassigned", "page_size", "page")


def _flag(value: str | None) -> bool:
    """A query parameter's yes or no; anything else is a ValueError (a 422)."""
    if value is None or value.lower() in ("false", "0", "no", ""):
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    raise ValueError(value)


ClientGetter = Callable[[], Awaitable[Client]]


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


# ---------------------------------------------------------------------- request bodies


class _Body(BaseModel):
    """Strict JSON: a misspelt field (or ``agent``: the token says who acts) is a 422."""

    model_config = ConfigDict(extra="forbid", strict=True)


class AckBody(_Body):
    text: str | None = None  # default: the rule file's 'ack' template


class ReplyBody(_Body):
    text: NotBlank
    private: bool = False
    pending: bool = False  # the agent now waits on the customer


class InvitePrivateBody(_Body):
    template: str | None = None  # default: flow.privatize.template


class ResolveBody(_Body):
    code: NotBlank
    note: str | None = None


class ReopenBody(_Body):
    reason: str = ""
    code: str | None = None  # a reason code (from the rule file's reasons.reopen, if it lists them)


class AssignBody(_Body):
    assignee: str | None = None  # default: the caller takes the inquiry
    code: str | None = None  # a reason code (reasons.assign)


class EscalateBody(_Body):
    to: Literal["supervisor", "chat"]
    reason: str | None = None
    code: str | None = None  # a reason code (reasons.escalate)


@dataclass(frozen=True)
class _Action:
    """One ``POST /inquiries/{id}/<path>``: its body, the workflow Update and its request."""

    path: str
    summary: str
    body: type[_Body]
    update: Action
    request: Callable[[Any, Caller], BaseModel]


ACTIONS = (
    _Action(
        "ack",
        "Acknowledge publicly and take the inquiry.",
        AckBody,
        InquiryWorkflow.acknowledge,
        lambda body, caller: AcknowledgeRequest(agent=caller.name, text=body.text),
    ),
    _Action(
        "reply",
        "Reply to the customer (signed with the caller's name).",
        ReplyBody,
        InquiryWorkflow.reply,
        lambda body, caller: ReplyRequest(
            agent=caller.name, text=body.text, private=body.private, pending=body.pending
        ),
    ),
    _Action(
        "invite-private",
        "Invite the customer to continue in a private channel.",
        InvitePrivateBody,
        InquiryWorkflow.invite_private,
        lambda body, caller: InvitePrivateRequest(agent=caller.name, template=body.template),
    ),
    _Action(
        "resolve",
        "Mark the problem solved; the follow-up starts.",
        ResolveBody,
        InquiryWorkflow.resolve,
        lambda body, caller: ResolveRequest(agent=caller.name, code=body.code, note=body.note),
    ),
    _Action(
        "reopen",
        "Reopen a resolved inquiry.",
        ReopenBody,
        InquiryWorkflow.reopen,
        lambda body, caller: ReopenRequest(agent=caller.name, reason=body.reason, code=body.code),
    ),
    _Action(
        "assign",
        "Give the inquiry to an agent (agents: only to themselves; supervisors: anyone).",
        AssignBody,
        InquiryWorkflow.assign,
        lambda body, caller: AssignRequest(
            agent=caller.name,
            assignee=(body.assignee or "").strip() or caller.name,
            code=body.code,
        ),
    ),
    _Action(
        "escalate",
        "Hand to a supervisor, or move to live chat with the same agent.",
        EscalateBody,
        InquiryWorkflow.escalate,
        lambda body, caller: EscalateRequest(
            agent=caller.name, to=body.to, reason=body.reason, code=body.code
        ),
    ),
)


def signed(action: _Action, body: Any, caller: Caller, channel: Channel) -> BaseModel:
    """The action's request carrying who asked: the token's name, role and id, and whether
    through the API or the console (the workflow keeps it on the timeline)."""
    actor = Actor(
        name=caller.name,
        role=caller.role,
        channel=channel,
        token_id=caller.token_id or None,
        authenticated=True,
    )
    return action.request(body, caller).model_copy(update={"actor": actor})


# ---------------------------------------------------------------------- Temporal's answers


def _failure(error: BaseException, inquiry_id: str | None) -> JSONResponse:
    """The status code for a Temporal failure; the sentence is ``careflow.temporal.intake``'s."""
    if isinstance(error, RulesNotLoaded):  # the inquiry waits for a fixed rule file
        return _error(503, str(error))
    if isinstance(error, CareflowError):
        cause, message = error.__cause__, str(error)
    else:  # one ``careflow.temporal.intake`` did not recognise
        cause, message = error, f"Temporal failed: {type(error).__name__}: {error}"
    if isinstance(cause, WorkflowUpdateFailedError):
        rejected = (
            isinstance(cause.cause, ApplicationError) and cause.cause.type == "ActionRejected"
        )
        return _error(409 if rejected else 502, message)
    if isinstance(cause, WorkflowQueryRejectedError):
        return _error(409, message)
    if isinstance(cause, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        return _error(504, message)
    if isinstance(cause, RPCError):
        if cause.status == RPCStatusCode.NOT_FOUND:
            return _error(409 if "already completed" in cause.message else 404, message)
        if cause.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return _error(503, message)
        if cause.status == RPCStatusCode.INVALID_ARGUMENT:
            return _error(422, message)
    if isinstance(cause, RuntimeError) and str(cause).startswith("Failed client connect"):
        return _error(503, message)
    log.warning("Temporal failed on %s: %s", inquiry_id or "the queue", message)
    return _error(502, message)


TEMPORAL_ERRORS = (CareflowError, TemporalError, RuntimeError, TimeoutError)


def explain_failure(error: BaseException, inquiry_id: str | None) -> tuple[int, str]:
    """The status code and sentence the API answers for a Temporal failure (the console shows
    the same sentence on its pages)."""
    response = _failure(error, inquiry_id)
    return response.status_code, str(json.loads(bytes(response.body))["error"])


# ---------------------------------------------------------------------- routes


def agent_routes(settings: ApiTokenSettings, get_client: ClientGetter) -> list[BaseRoute]:
    """``GET /queue``, ``GET /inquiries/{id}`` and ``POST /inquiries/{id}/<action>``.

    ``get_client`` connects on first use; any failure to connect is a 503 with its sentence.
    Tokens are read once, here; ``careflow api`` checks them at start-up, so a bad entry only
    reaches this point from a caller that skipped that check, and then every route says so.
    """
    try:
        tokens = load_tokens(settings)
        off = None if tokens else f"{ENV} is not set: the agent API is off until it is"
    except TokenError as error:
        tokens, off = Tokens([]), f"the agent API is off: {error}"

    def authorize(request: Request, roles: frozenset[Role], what: str) -> Caller | JSONResponse:
        if off is not None:
            return _error(503, off, missing_variable=ENV)
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not offered.strip():
            return _unauthorized("the Authorization: Bearer <token> header is missing")
        caller = tokens.caller(offered.strip())
        if caller is None:
            return _unauthorized("the bearer token is not valid")
        if caller.role not in roles:
            return _error(403, f"the {caller.role} role may not {what}")
        return caller

    async def client_or_503() -> Client | JSONResponse:
        try:
            return await get_client()
        except Exception as error:  # the holder's Unavailable, or whatever connecting raised
            return _error(503, str(error) or "cannot connect to Temporal")

    async def queue(request: Request) -> Response:
        """
        summary: Open inquiries across channels, the nearest next due time first (none last).
        description: >
          Filters match exactly and combine; they go into the visibility query, so the server
          returns only what matches. Without page_size the answer is the whole queue; with it,
          one page, and when more follow, the header Next-Page-Token (also a Link rel=next) to
          pass back as page. The server pages by start time (SQL visibility cannot order by a
          deadline), so the nearest due come first within each page. Roles - auditor, agent,
          supervisor.
        security: [{bearer: []}]
        parameters:
          - {name: queue, in: query, required: false, schema: {type: string}}
          - {name: category, in: query, required: false, schema: {type: string}}
          - {name: priority, in: query, required: false, schema: {type: string}}
          - {name: agent, in: query, required: false, schema: {type: string}}
          - {name: channel, in: query, required: false, schema: {type: string}}
          - {name: unassigned, in: query, required: false, schema: {type: boolean}, description: "Only inquiries nobody is assigned"}
          - {name: page_size, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 1000}}
          - {name: page, in: query, required: false, schema: {type: string}, description: "The Next-Page-Token of the page before"}
        responses:
          200:
            description: "The open inquiries (a page of them with page_size)"
            headers:
              Next-Page-Token: {description: "Present when more pages follow: pass it as page", schema: {type: string}}
              Link: {description: "The next page's URL, rel=next", schema: {type: string}}
            content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/OpenInquiry"}}}}
          401: {description: "No or unknown bearer token"}
          422: {description: "An unknown query parameter, a bad value, or a page token the queue did not give"}
          503: {description: "CAREFLOW_API_TOKENS not set, or Temporal unreachable"}
        """
        caller = authorize(request, READERS, "read the queue")
        if isinstance(caller, Response):
            return caller
        params = request.query_params
        unknown = sorted(set(params) - set(QUEUE_PARAMS))
        if unknown:
            problems = [{"field": name, "message": "not a filter"} for name in unknown]
            filters = ", ".join(QUEUE_PARAMS)
            return _error(422, f"unknown query parameter; filters are {filters}", problems=problems)
        try:
            wanted = QueueFilters(
                **{name: params[name] for name in QUEUE_FILTERS if name in params},
                unassigned=_flag(params.get("unassigned")),
            )
            page_size = int(params["page_size"]) if "page_size" in params else None
            token = decode_token(params["page"]) if "page" in params else None
        except ValueError:
            return _error(422, "page_size must be a whole number; unassigned true or false")
        except BadQueueRequest as error:
            return _error(422, str(error))
        client = await client_or_503()
        if isinstance(client, Response):
            return client
        try:
            page = await list_open(client, wanted, page_size, token)
        except BadQueueRequest as error:
            return _error(422, str(error))
        except TEMPORAL_ERRORS as error:
            return _failure(error, None)
        answer = JSONResponse([row.model_dump(mode="json") for row in page.rows])
        following = encode_token(page.next_page_token)
        if following is not None:
            answer.headers["Next-Page-Token"] = following
            answer.headers["Link"] = (
                f'<{request.url.include_query_params(page=following)}>; rel="next"'
            )
        return answer

    async def inquiry_status(request: Request) -> Response:
        """
        summary: One inquiry's status (as careflow status --json), open or closed.
        description: Roles - auditor, agent, supervisor.
        security: [{bearer: []}]
        parameters:
          - {name: id, in: path, required: true, schema: {type: string}, description: "The workflow id"}
        responses:
          200: {description: "The status", content: {application/json: {schema: {$ref: "#/components/schemas/InquiryStatus"}}}}
          401: {description: "No or unknown bearer token"}
          404: {description: "No inquiry with this id"}
          503: {description: "CAREFLOW_API_TOKENS not set, or Temporal unreachable"}
          504: {description: "No worker answered in time"}
        """
        caller = authorize(request, READERS, "read inquiries")
        if isinstance(caller, Response):
            return caller
        inquiry_id = request.path_params["id"]
        client = await client_or_503()
        if isinstance(client, Response):
            return client
        try:
            status = await inquiries.status(client, inquiry_id)
        except TEMPORAL_ERRORS as error:
            return _failure(error, inquiry_id)
        return JSONResponse(status.model_dump(mode="json"))

    def action_endpoint(action: _Action) -> Callable[[Request], Awaitable[Response]]:
        async def act(request: Request) -> Response:
            caller = authorize(request, ACTORS, f"act on inquiries ({action.path})")
            if isinstance(caller, Response):
                return caller
            inquiry_id = request.path_params["id"]
            raw = await read_body(request, MAX_BODY)
            if raw is None:
                return _error(413, f"the body is larger than {MAX_BODY} bytes")
            try:
                body = action.body.model_validate_json(raw.strip() or b"{}")
            except ValidationError as error:
                problems = validation_problems(error)
                return _error(422, f"the {action.path} body is not valid", problems=problems)
            if (
                isinstance(body, AssignBody)
                and caller.role != "supervisor"
                and body.assignee is not None
                and body.assignee.strip() != caller.name
            ):
                return _error(403, "an agent may assign an inquiry only to themselves")
            client = await client_or_503()
            if isinstance(client, Response):
                return client
            try:
                result = await inquiries.act(
                    client, inquiry_id, action.update, signed(action, body, caller, "api")
                )
            except TEMPORAL_ERRORS as error:
                return _failure(error, inquiry_id)
            log.info("%s (%s): %s on %s", caller.name, caller.role, action.path, inquiry_id)
            return JSONResponse(result.model_dump(mode="json"))

        act.__doc__ = _action_doc(action)
        return act

    return [
        Route("/queue", queue, methods=["GET"]),
        # ``:path``: a conversation id may hold '/' (careflow.channels.ids refuses '.' and '..'
        # segments, which clients drop), so a workflow id may too.
        Route("/inquiries/{id:path}", inquiry_status, methods=["GET"]),
        *(
            Route(
                f"/inquiries/{{id:path}}/{action.path}", action_endpoint(action), methods=["POST"]
            )
            for action in ACTIONS
        ),
        *qa_routes(authorize, client_or_503, _failure, TEMPORAL_ERRORS),
        *proactive_routes(authorize, client_or_503, _failure, TEMPORAL_ERRORS),
    ]


def _unauthorized(message: str) -> JSONResponse:
    response = _error(401, message)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _action_doc(action: _Action) -> str:
    """The OpenAPI YAML of one action route (the generator reads endpoints' docstrings)."""
    forbidden = "The auditor role"
    if action.path == "assign":
        forbidden += ", or an agent assigning someone else"
    return f"""
summary: "{action.summary}"
description: >
  Runs the workflow's Update as the token's name. Roles - agent, supervisor.
  A 409 carries the workflow's own sentence.
security: [{{bearer: []}}]
parameters:
  - {{name: id, in: path, required: true, schema: {{type: string}}, description: "The workflow id"}}
requestBody:
  required: false
  content:
    application/json:
      schema: {{$ref: "#/components/schemas/{action.body.__name__}"}}
responses:
  200: {{description: "Done", content: {{application/json: {{schema: {{$ref: "#/components/schemas/ActionResult"}}}}}}}}
  401: {{description: "No or unknown bearer token"}}
  403: {{description: "{forbidden}"}}
  404: {{description: "No inquiry with this id"}}
  409: {{description: "The workflow refused the action as the inquiry stands (its sentence), or the inquiry is closed"}}
  422: {{description: "The body is not valid; problems names each field"}}
  503: {{description: "CAREFLOW_API_TOKENS not set, or Temporal unreachable"}}
  504: {{description: "No worker answered in time"}}
"""


# ---------------------------------------------------------------------- OpenAPI and /docs


def _schemas() -> dict[str, Any]:
    """The JSON schemas the agent routes refer to, ``$defs`` lifted into components."""
    models: list[type[BaseModel]] = [
        *(action.body for action in ACTIONS),
        ActionResult,
        inquiries.OpenInquiry,
        InquiryStatus,
    ]
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def with_agent_api(base: dict[str, Any]) -> dict[str, Any]:
    """The intake's OpenAPI base plus the agent API's schemas and bearer security scheme."""
    components = base.setdefault("components", {})
    components.setdefault("schemas", {}).update(_schemas())
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": f"A token from {ENV} (token=role:name) or CAREFLOW_API_TOKENS_FILE",
        }
    }
    info = base.setdefault("info", {})
    info["title"] = "careflow webhook intake and agent API"
    return base


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>careflow API</title>
<link rel="stylesheet" href="STATIC/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="STATIC/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: SPEC, dom_id: "#swagger-ui", validatorUrl: null});
</script>
</body>
</html>
"""


def docs_routes() -> list[BaseRoute]:
    """``/docs``: Swagger UI from the swagger-ui-bundle package's files (nothing from a CDN)."""

    async def docs(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        page = DOCS_PAGE.replace("STATIC", html.escape(f"{root}/docs/static"))
        page = page.replace("SPEC", json.dumps(f"{root}/openapi.json").replace("<", "\\u003c"))
        return HTMLResponse(page)

    return [
        Route("/docs", docs, methods=["GET"], include_in_schema=False),
        Mount("/docs/static", app=StaticFiles(directory=str(swagger_ui_path)), name="docs-static"),
    ]
