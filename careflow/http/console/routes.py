"""The console's routes: sign-in and sign-out, the queue (``/``) and its live fragment, an
inquiry's page with the composer and the actions, the supervisor view and the reports (the
proactive posts and the quality reviews are pages of their own modules, handed a ``Kit``).

Every page takes the session cookie or the API's ``Authorization: Bearer`` header, with the
API's roles. Actions go through ``careflow.temporal.inquiries.act`` with the agent API's own
request builders (``careflow.http.agent.ACTIONS``), so a refusal is the workflow's sentence, shown
on the page. ``GET /inquiries/{id}`` is the page only for a browser (``Accept: text/html``);
anything else falls through to the agent API's JSON route.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from temporalio.client import Client

from careflow.audit.report import fetch_report
from careflow.audit.report_html import report_html
from careflow.audit.sla import DEFAULT_BY, collect, collect_reviews, sla_report, teams_of
from careflow.engine.ruleset import Ruleset
from careflow.http.agent import (
    ACTIONS,
    ACTORS,
    READERS,
    TEMPORAL_ERRORS,
    ClientGetter,
    explain_failure,
    signed,
)
from careflow.http.body import read_body
from careflow.http.console import session as sessions
from careflow.http.console.insights import insights_routes
from careflow.http.console.kit import Kit
from careflow.http.console.presence import Presence
from careflow.http.console.proactive_pages import proactive_routes
from careflow.http.console.reviews import review_routes
from careflow.http.console.views import (
    CountCache,
    FactCache,
    Filters,
    Row,
    due_of,
    facet_values,
    owed,
    preview,
    state_at,
)
from careflow.http.tokens import ENV, Role, TokenError, Tokens, load_tokens
from careflow.settings import ApiTokenSettings
from careflow.temporal import inquiries
from careflow.temporal.due_pages import Mark, due_page
from careflow.temporal.floor import floor
from careflow.temporal.inquiries import BadQueueRequest, RulesNotLoaded
from workflows.state import InquiryStatus

log = logging.getLogger("careflow.http.console")
HERE = Path(__file__).parent
MAX_FORM = 64 * 1024
PAGE_SIZE = 50  # queue rows a page shows, nearest due first
SUPERVISORS: frozenset[Role] = frozenset({"supervisor"})
ACTING: frozenset[Role] = frozenset({"agent", "supervisor"})  # who inquiries are assigned to
SUPERVISOR_BY = (*DEFAULT_BY, "agent", "team")  # the SLA report's groups in the console
DONE = {
    "ack": "Acknowledged.",
    "reply": "Reply sent.",
    "invite-private": "Invitation to DM sent.",
    "resolve": "Resolved: the follow-up starts.",
    "reopen": "Reopened.",
    "assign": "Assigned.",
    "escalate": "Escalated.",
}
ACTIONS_BY_PATH = {action.path: action for action in ACTIONS}

_PAGES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _ago(value: datetime | None) -> str:
    """A time as people read it: the date and minute, in UTC."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_PAGES.filters["when"] = _ago
_PAGES.filters["quote"] = lambda value: quote(str(value), safe="/")


class HtmlRoute(Route):
    """A route that matches only requests asking for HTML, so an API route of the same path
    (JSON for scripts) still answers everyone else."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            accept = dict(scope.get("headers", [])).get(b"accept", b"")
            if b"text/html" not in accept:
                return Match.NONE, {}
        return super().matches(scope)


def console_routes(
    settings: ApiTokenSettings, get_client: ClientGetter, ruleset: Ruleset
) -> list[BaseRoute]:
    """The console's routes; ``ruleset`` gives the composer its templates (the file the app
    serves, which is the one new inquiries load)."""
    try:
        tokens = load_tokens(settings)
        off = None if tokens else f"{ENV} is not set: the console is off until it is"
    except TokenError as error:
        tokens, off = Tokens([]), f"the console is off: {error}"
    cache = FactCache()
    presence = Presence()
    count_cache = CountCache(facet_values(ruleset))
    teams = teams_of({name: team.agents for name, team in ruleset.rule_file.teams.items()})

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        body = _PAGES.get_template(name).render(request=request, **context)
        response = HTMLResponse(body, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        return response

    def problem(
        request: Request, status_code: int, message: str, who: sessions.Session | None = None
    ) -> HTMLResponse:
        return page(request, "problem.html", status_code, message=message, me=who)

    def who(request: Request) -> sessions.Session | Response | None:
        """The caller: a bearer header (401 when not valid) or the session cookie (None when
        there is none, or it is forged, expired or revoked)."""
        if off is not None:
            return problem(request, 503, off)
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and offered.strip():
            caller = tokens.caller(offered.strip())
            if caller is None:
                return problem(request, 401, "the bearer token is not valid")
            return sessions.Session(caller, None, None)
        cookie = request.cookies.get(sessions.COOKIE)
        return sessions.read_cookie(tokens, cookie) if cookie else None

    def signed_in(
        request: Request, roles: frozenset[Role], what: str
    ) -> sessions.Session | Response:
        found = who(request)
        if isinstance(found, Response):
            return found
        if found is None:
            if request.method != "GET":
                return problem(request, 403, "your session is not valid: sign in again")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
        if found.caller.role not in roles:
            return problem(request, 403, f"the {found.caller.role} role may not {what}", found)
        return found

    async def form(request: Request) -> dict[str, str] | Response:
        raw = await read_body(request, MAX_FORM)
        if raw is None:
            return problem(request, 413, f"the form is larger than {MAX_FORM} bytes")
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return problem(request, 400, "the form is not UTF-8 text")

    def guarded(
        request: Request, found: sessions.Session, fields: dict[str, str]
    ) -> Response | None:
        """A cookie POST must come from this site and carry the session's CSRF token."""
        if found.csrf is None:
            return None
        if not sessions.same_origin(request):
            return problem(request, 403, "this form was not sent from the console", found)
        if not sessions.csrf_ok(found, fields.get("csrf")):
            return problem(request, 403, "the form's CSRF token is missing or wrong", found)
        return None

    async def client_or_page(request: Request, found: sessions.Session) -> Client | Response:
        try:
            return await get_client()
        except Exception as error:  # the app's Unavailable, or whatever connecting raised
            return problem(request, 503, str(error) or "cannot connect to Temporal", found)

    kit = Kit(signed_in, client_or_page, problem, page, form, guarded)

    # ------------------------------------------------------------------ sign-in, sign-out

    async def signin_page(request: Request) -> Response:
        found = who(request)
        if isinstance(found, sessions.Session):
            return RedirectResponse(_local(request.query_params.get("next")), status_code=303)
        return page(request, "signin.html", next=request.query_params.get("next", "/"))

    async def signin(request: Request) -> Response:
        if off is not None:
            return problem(request, 503, off)
        if not sessions.same_origin(request):
            return problem(request, 403, "this form was not sent from the console")
        fields = await form(request)
        if isinstance(fields, Response):
            return fields
        token = fields.get("token", "").strip()
        target = _local(fields.get("next"))
        caller = tokens.caller(token) if token else None
        if caller is None:
            return page(request, "signin.html", 401, next=target, error="that token is not valid")
        if caller.role == "reviewer" and target == "/":  # a reviewer has no queue: their reviews
            target = "/reviews"
        value, _ = sessions.make_cookie(tokens, token)
        response = RedirectResponse(target, status_code=303)
        sessions.set_cookie(response, request, value)
        log.info("%s (%s) signed in to the console", caller.name, caller.role)
        return response

    async def signout(request: Request) -> Response:
        found = who(request)
        if isinstance(found, Response):
            return found
        fields = await form(request)
        if isinstance(fields, Response):
            return fields
        if found is not None and (refused := guarded(request, found, fields)):
            return refused
        response = RedirectResponse("/signin", status_code=303)
        sessions.clear_cookie(response)
        return response

    # ------------------------------------------------------------------ the queue

    async def queue_context(request: Request, found: sessions.Session) -> dict[str, Any] | Response:
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        me = found.caller.name
        params = request.query_params
        filters = Filters.of(dict(params))
        try:
            wanted = filters.for_visibility(me)
            after, before = params.get("after"), params.get("before")
            shown = await due_page(
                client,
                wanted,
                PAGE_SIZE,
                after=Mark.decode(after) if after else None,
                before=Mark.decode(before) if before else None,
            )
            fresh_when = (wanted.to_query(), shown.matching)
            tallies = await count_cache.counts(client, me, shown.rows, fresh_when)
        except BadQueueRequest as error:
            return problem(request, 422, str(error), found)
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, None)
            return problem(request, status_code, message, found)
        rows = await cache.rows(client, shown.rows)
        return {
            "me": found,
            "rows": rows,
            "page": shown,
            "total": tallies["who"]["open"],
            "filters": filters,
            "counts": tallies,
            "now": datetime.now(UTC),
        }

    async def queue_page(request: Request) -> Response:
        found = signed_in(request, READERS, "read the queue")
        if isinstance(found, Response):
            return found
        context = await queue_context(request, found)
        if isinstance(context, Response):
            return context
        return page(request, "queue.html", **context)

    async def queue_fragment(request: Request) -> Response:
        """The queue's filters and rows, for the page's poll: HTML, and the ids it holds."""
        found = signed_in(request, READERS, "read the queue")
        if isinstance(found, Response):
            return JSONResponse({"error": "sign in again"}, status_code=401)
        context = await queue_context(request, found)
        if isinstance(context, Response):
            return JSONResponse({"error": "the queue cannot be read now"}, status_code=503)
        html = _PAGES.get_template("_queue.html").render(request=request, **context)
        ids = [row.line.id for row in context["rows"]]
        return JSONResponse({"html": html, "ids": ids}, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ one inquiry

    async def status_or_page(
        request: Request, found: sessions.Session, inquiry_id: str
    ) -> InquiryStatus | Response:
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            return await inquiries.status(client, inquiry_id)
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, inquiry_id)
            if status_code == 404:
                message = f"there is no inquiry {inquiry_id!r}"
            return problem(request, status_code, message, found)

    def inquiry_context(found: sessions.Session, status: InquiryStatus) -> dict[str, Any]:
        now = datetime.now(UTC)
        closed = status.closed_at is not None
        clocks = [
            {
                "name": name,
                "clock": clock,
                "running": not closed and owed(clock),
                "state": state_at(clock, now) if owed(clock) else None,
            }
            for name, clock in status.clocks.items()
        ]
        me = found.caller.name
        colleague = status.agent if status.agent and status.agent != me else None
        return {
            "me": found,
            "s": status,
            "closed": closed,
            "clocks": clocks,
            "due": due_of(status, now),
            "templates": sorted(ruleset.rule_file.templates),
            "reasons": ruleset.rule_file.reasons,
            "can_act": found.caller.role in ACTORS,
            "supervisor": found.caller.role == "supervisor",
            "colleague": colleague,
            "viewers": presence.others(status.id, me),
            "rules_differ": status.ruleset.get("digest") != ruleset.digest,
        }

    async def inquiry_page(request: Request) -> Response:
        found = signed_in(request, READERS, "read inquiries")
        if isinstance(found, Response):
            return found
        inquiry_id = request.path_params["id"]
        status = await status_or_page(request, found, inquiry_id)
        if isinstance(status, Response):
            return status
        presence.saw(status.id, found.caller.name)
        done = DONE.get(request.query_params.get("done", ""))
        return page(request, "inquiry.html", done=done, **inquiry_context(found, status))

    async def inquiry_fragment(request: Request) -> Response:
        """The inquiry's changing parts (conversation, clocks, who else is here, rules fired,
        timeline) for the page's poll; each poll also says this agent is still here."""
        found = signed_in(request, READERS, "read inquiries")
        if isinstance(found, Response):
            return JSONResponse({"error": "sign in again"}, status_code=401)
        status = await status_or_page(request, found, request.path_params["id"])
        if isinstance(status, Response):
            return JSONResponse({"error": "the inquiry cannot be read now"}, status_code=503)
        presence.saw(status.id, found.caller.name)
        context = inquiry_context(found, status)
        parts = {
            name: _PAGES.get_template(f"_inquiry_{name}.html").render(request=request, **context)
            for name in ("live", "history")
        }
        return JSONResponse(
            {**parts, "closed": context["closed"]}, headers={"Cache-Control": "no-store"}
        )

    async def preview_endpoint(request: Request) -> Response:
        """The composer's preview: JSON, rendered server-side with careflow's own engine."""
        found = signed_in(request, READERS, "read inquiries")
        if isinstance(found, Response):
            return JSONResponse({"error": "sign in again"}, status_code=401)
        params = request.query_params
        inquiry_id = params.get("id", "")
        if not inquiry_id:
            return JSONResponse({"error": "the id parameter is missing"}, status_code=422)
        status = await status_or_page(request, found, inquiry_id)
        if isinstance(status, Response):
            return JSONResponse({"error": "the inquiry cannot be read"}, status_code=404)
        shown = preview(
            ruleset,
            status,
            found.caller.name,
            params.get("text", ""),
            params.get("private") in ("1", "on", "true"),
            params.get("template") or None,
        )
        return JSONResponse(shown, headers={"Cache-Control": "no-store"})

    async def act(request: Request) -> Response:
        name = request.path_params["action"]
        inquiry_id = request.path_params["id"]
        action = ACTIONS_BY_PATH.get(name)
        if action is None:
            return problem(request, 404, f"there is no action {name!r}")
        posted = await kit.posted(request, ACTORS, f"act on inquiries ({name})")
        if isinstance(posted, Response):
            return posted
        found, fields = posted
        caller = found.caller
        body_fields = _body_fields(name, fields)
        if name == "assign" and caller.role != "supervisor":
            wanted = (body_fields.get("assignee") or caller.name).strip()
            if wanted != caller.name:
                return await refusal(
                    request, found, inquiry_id, 403, "an agent may assign only to themselves"
                )
        try:
            body = action.body.model_validate(body_fields)
        except ValidationError as error:
            fields_wrong = ", ".join(
                f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in error.errors()
            )
            return await refusal(request, found, inquiry_id, 422, f"not sent: {fields_wrong}")
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            wanted = signed(action, body, caller, "console")
            await inquiries.act(client, inquiry_id, action.update, wanted)
        except RulesNotLoaded as error:
            return await refusal(request, found, inquiry_id, 503, str(error))
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, inquiry_id)
            return await refusal(request, found, inquiry_id, status_code, message)
        log.info("%s (%s): %s on %s in the console", caller.name, caller.role, name, inquiry_id)
        target = f"/inquiries/{quote(inquiry_id, safe='/')}?done={name}"
        return RedirectResponse(target, status_code=303)

    async def refusal(
        request: Request, found: sessions.Session, inquiry_id: str, code: int, message: str
    ) -> Response:
        """The inquiry's page again, with why the action was not done at the top."""
        status = await status_or_page(request, found, inquiry_id)
        if isinstance(status, Response):
            return problem(request, code, message, found)
        return page(
            request,
            "inquiry.html",
            code,
            error=_plain(message),
            **inquiry_context(found, status),
        )

    # ------------------------------------------------------------------ supervisors

    async def supervisor_page(request: Request) -> Response:
        found = signed_in(request, SUPERVISORS, "see the supervisor view")
        if isinstance(found, Response):
            return found
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        now = datetime.now(UTC)
        agents = [*tokens.names(ACTING), *teams.of_agent]
        try:
            figures = await floor(client, facet_values(ruleset)["queue"], agents, now)
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, None)
            return problem(request, status_code, message, found)
        at_risk = figures.at_risk
        rows: list[Row] = await cache.rows(client, [*at_risk.rows, *figures.high_reach.rows])
        return page(
            request,
            "supervisor.html",
            me=found,
            f=figures,
            at_risk=rows[: len(at_risk.rows)],
            high_reach=rows[len(at_risk.rows) :],
            now=now,
        )

    async def sla_page(request: Request) -> Response:
        found = signed_in(request, SUPERVISORS, "see the SLA report")
        if isinstance(found, Response):
            return found
        days = request.query_params.get("days", "7")
        if not days.isdigit() or not 1 <= int(days) <= 366:
            return problem(request, 422, "days must be a whole number from 1 to 366", found)
        since = datetime.now(UTC) - timedelta(days=int(days))
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            inquiries, reviews = await collect(client, since), await collect_reviews(client, since)
            report = sla_report(inquiries, since, SUPERVISOR_BY, teams, reviews)
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, None)
            return problem(request, status_code, message, found)
        from careflow.audit.sla_html import sla_html  # matplotlib: only when asked for

        return _framed(await asyncio.to_thread(sla_html, report))

    async def report_page(request: Request) -> Response:
        found = signed_in(request, READERS, "read reports")
        if isinstance(found, Response):
            return found
        inquiry_id = request.path_params["id"]
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            report = await fetch_report(client, inquiry_id)
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, inquiry_id)
            return problem(request, status_code, message, found)
        return _framed(report_html(report), f"/inquiries/{quote(inquiry_id, safe='/')}")

    return [
        Route("/", queue_page, methods=["GET"]),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/console/queue", queue_fragment, methods=["GET"]),
        Route("/console/preview", preview_endpoint, methods=["GET"]),
        Route("/console/inquiry/{id:path}", inquiry_fragment, methods=["GET"]),
        Route("/console/act/{action}/{id:path}", act, methods=["POST"]),
        Route("/console/report/{id:path}", report_page, methods=["GET"]),
        Route("/supervisor", supervisor_page, methods=["GET"]),
        Route("/supervisor/report", sla_page, methods=["GET"]),
        HtmlRoute("/inquiries/{id:path}", inquiry_page, methods=["GET"]),
        *insights_routes(signed_in, client_or_page, problem, _framed, ruleset),
        *proactive_routes(kit),
        *review_routes(kit),
        Mount("/console/static", app=StaticFiles(directory=str(HERE / "static")), name="console"),
    ]


def _local(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//elsewhere``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _body_fields(action: str, fields: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the agent API's body for ``action``: blanks are left out, and
    checkboxes are booleans."""
    text = fields.get("text", "").strip()
    if action == "ack":
        return {"text": text} if text else {}
    if action == "reply":
        return {
            "text": fields.get("text", ""),
            "private": fields.get("private") == "on",
            "pending": fields.get("pending") == "on",
        }
    if action == "invite-private":
        template = fields.get("template", "").strip()
        return {"template": template} if template else {}
    if action == "resolve":
        note = fields.get("note", "").strip()
        return {"code": fields.get("code", ""), **({"note": note} if note else {})}
    code = fields.get("code", "").strip()
    coded = {"code": code} if code else {}
    if action == "reopen":
        return {"reason": fields.get("reason", "").strip(), **coded}
    if action == "assign":
        assignee = fields.get("assignee", "").strip()
        return {**({"assignee": assignee} if assignee else {}), **coded}
    if action == "escalate":
        reason = fields.get("reason", "").strip()
        return {"to": fields.get("to", ""), **({"reason": reason} if reason else {}), **coded}
    return {}


def _plain(message: str) -> str:
    """The workflow's sentence without Temporal's wrapping, first letter up."""
    message = message.strip()
    return message[:1].upper() + message[1:] if message else "The action was not done."


def _framed(html: str, back: str = "/supervisor") -> HTMLResponse:
    """A report page with a way back to the console at its top."""
    link = f'<p><a href="{back}">← back to the console</a></p>'
    at = html.find("<body>")
    framed = html[: at + 6] + link + html[at + 6 :] if at >= 0 else link + html
    response = HTMLResponse(framed)
    response.headers["Cache-Control"] = "no-store"
    return response
