"""The console's insights page for supervisors (``/supervisor/insights``): the same page as
``careflow insights --html``, for the rule file the app serves.

Its own module, handed the console's sign-in and page helpers by ``routes.console_routes``, so
the console's routes stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from careflow.audit.insights_html import insights_html
from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.engine.ruleset import Ruleset
from careflow.http.agent import TEMPORAL_ERRORS, explain_failure
from careflow.temporal.insights import DIMENSIONS, Dimension, insights

SignedIn = Callable[[Request, frozenset[Any], str], Any]
ClientOrPage = Callable[[Request, Any], Awaitable[Client | Response]]
Problem = Callable[..., HTMLResponse]
Framed = Callable[[str], HTMLResponse]


def insights_routes(
    signed_in: SignedIn,
    client_or_page: ClientOrPage,
    problem: Problem,
    framed: Framed,
    ruleset: Ruleset,
) -> list[Route]:
    """``GET /supervisor/insights?since=7d&by=segment`` (supervisors only)."""

    async def insights_page(request: Request) -> Response:
        found = signed_in(request, frozenset({"supervisor"}), "see insights")
        if isinstance(found, Response):
            return found
        since = request.query_params.get("since", "7d")
        by = request.query_params.get("by", "segment")
        if not re.match(DURATION_PATTERN, since):
            return problem(request, 422, "since must be a duration, e.g. 7d or 24h", found)
        if by not in DIMENSIONS:
            return problem(request, 422, "by must be segment, channel or category", found)
        client = await client_or_page(request, found)
        if isinstance(client, Response):
            return client
        try:
            report = await insights(
                client, ruleset, datetime.now(UTC), parse_duration(since), cast(Dimension, by)
            )
        except TEMPORAL_ERRORS as error:
            status_code, message = explain_failure(error, None)
            return problem(request, status_code, message, found)
        return framed(insights_html(report))

    return [Route("/supervisor/insights", insights_page, methods=["GET"])]
