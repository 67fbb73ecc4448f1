"""The HTTP app of ``careflow api``: the signed webhook intake (``careflow.http.webhooks``), the
agent API and its /docs (``careflow.http.agent``) and ``GET /openapi.json``
(``careflow.http.openapi``), sharing one Temporal client, with a server span per request when
traces are on.

Routes: ``POST /webhooks/generic`` (a normalized inquiry, ``X-Careflow-Signature: sha256=<hex>``),
``GET|POST /webhooks/x`` (the Account Activity CRC and deliveries,
``x-twitter-webhooks-signature: sha256=<base64>``), ``GET|POST /webhooks/meta`` (the subscription
check and deliveries, ``X-Hub-Signature-256: sha256=<hex>``), ``GET /openapi.json``, the agent
API's routes and ``/docs``, ``GET /health`` (Temporal reachable, a worker polling), and the
agents' console (``careflow.http.console``: ``/``, ``/signin``, ``/supervisor``, and
``/inquiries/{id}`` for browsers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from temporalio.client import Client
from temporalio.exceptions import TemporalError

from careflow.engine.ruleset import Ruleset, load_ruleset
from careflow.errors import CareflowError
from careflow.http.agent import ClientGetter, agent_routes, docs_routes, with_agent_api
from careflow.http.console import console_routes
from careflow.http.health import health_route
from careflow.http.openapi import openapi_base, openapi_route
from careflow.http.webhooks import webhook_routes
from careflow.settings import Settings
from careflow.telemetry import traced_app
from careflow.temporal.explain import explain_error
from careflow.temporal.health import acknowledgement_target


class Unavailable(CareflowError):
    """Temporal cannot be reached (or refused): the delivery should be retried later. A
    ``CareflowError``, so every route that answers those with a 503 answers this one too."""


class _Temporal:
    """The Temporal client, connected on first use and kept; a failed connect is retried."""

    def __init__(self, factory: ClientGetter, address: str) -> None:
        self._factory = factory
        self._address = address
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await self._factory()
                except CareflowError as error:
                    raise Unavailable(str(error)) from error
                except (RuntimeError, OSError, TemporalError) as error:
                    message = explain_error(error, None, self._address)
                    raise Unavailable(message or f"cannot connect to Temporal: {error}") from error
            return self._client


def create_app(
    settings: Settings,
    client_factory: ClientGetter,
    ruleset: Ruleset | None = None,
) -> Starlette:
    """The intake app. ``client_factory`` connects to Temporal on the first delivery that needs
    it; ``ruleset`` is the firehose filter (default: the file ``settings.rules`` names)."""
    rules = ruleset or load_ruleset(Path(settings.rules))
    temporal = _Temporal(client_factory, settings.temporal.address)
    app = Starlette(
        routes=[
            *webhook_routes(settings, rules, temporal.client),
            # Before the agent API: its page of an inquiry answers only browsers (Accept: HTML).
            *console_routes(settings.api, temporal.client, rules),
            openapi_route(with_agent_api(openapi_base())),
            *agent_routes(settings.api, temporal.client),
            health_route(
                settings.temporal.task_queue, temporal.client, acknowledgement_target(rules)
            ),
            *docs_routes(),
        ]
    )
    return traced_app(app, settings.telemetry)  # a server span per request when traces are on
