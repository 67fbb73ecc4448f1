"""What the agent API lends the route groups it mounts (quality reviews, proactive posts): its
bearer-token check, its Temporal client and its answers to Temporal failures, so every route
authenticates, connects and fails the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from temporalio.client import Client

from careflow.http.tokens import Caller, Role

Authorize = Callable[[Request, frozenset[Role], str], Caller | JSONResponse]
ClientOr503 = Callable[[], Awaitable[Client | JSONResponse]]
Failure = Callable[[BaseException, str | None], JSONResponse]
