"""``careflow api``: the signed webhook intake (X, Meta, generic) over HTTP, with uvicorn.

Each webhook needs its platform's secret in the environment (``CAREFLOW_WEBHOOK_SECRET``,
``CAREFLOW_X_CONSUMER_SECRET``, ``CAREFLOW_META_APP_SECRET`` and ``CAREFLOW_META_VERIFY_TOKEN``);
one without answers 503 naming the variable, so the others can run alone. The firehose filter
reads ``CAREFLOW_RULES``; Temporal is reached as every command reaches it (``TEMPORAL_ADDRESS``…).
The agent API (``/queue``, ``/inquiries``) needs ``CAREFLOW_API_TOKENS`` or
``CAREFLOW_API_TOKENS_FILE``; a malformed entry stops the command before it listens.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn
from temporalio.client import Client

from careflow.cli.common import (
    connection_for,
    customer_key,
    fail,
    leave,
    log_careflow_lines,
    require_free_port,
    settings_from_env,
)
from careflow.cli.inquiries import read_rules
from careflow.http.app import create_app
from careflow.http.tokens import ENV, TokenError, Tokens, load_tokens
from careflow.settings import Settings
from careflow.temporal.connection import connect
from careflow.temporal.health import warn_at_start

api_cli = typer.Typer()

SECRETS = {
    "CAREFLOW_WEBHOOK_SECRET": ("generic", "POST /webhooks/generic"),
    "CAREFLOW_X_CONSUMER_SECRET": ("x_consumer_secret", "/webhooks/x"),
    "CAREFLOW_META_APP_SECRET": ("meta_app_secret", "POST /webhooks/meta"),
    "CAREFLOW_META_VERIFY_TOKEN": ("meta_verify_token", "GET /webhooks/meta"),
}


def check_tokens(settings: Settings) -> Tokens:
    """The agent API's tokens, or exit with the bad entry named (``careflow api`` and ``up``)."""
    try:
        return load_tokens(settings.api)
    except TokenError as error:
        fail(str(error))


def announce_tokens(tokens: Tokens) -> None:
    """One start-up line: how many tokens of each role, or that the agent API is off."""
    if tokens:
        typer.echo(f"  agent API: {len(tokens)} token(s) ({tokens.roles()}); Swagger UI at /docs")
    else:
        typer.echo(f"  {ENV} is not set: the agent API (/queue, /inquiries) answers 503", err=True)


@api_cli.command("api")
def api_command(
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
) -> None:
    """Serve the signed webhooks, the agent API (/queue, /inquiries), /openapi.json and /docs."""
    settings = settings_from_env()
    connection = connection_for(settings)
    ruleset = read_rules(settings.rules)
    tokens = check_tokens(settings)
    customer_key(settings)  # made now, so every delivery hashes CareCustomer with it
    require_free_port(port, host)
    connected = False

    async def client_factory() -> Client:
        nonlocal connected
        client = await connect(connection)
        connected = True
        return client

    log_careflow_lines()
    typer.echo(
        f"webhook intake on http://{host}:{port}  rules {settings.rules}  "
        f"Temporal {settings.temporal.address} ({connection.security})  OpenAPI at /openapi.json"
    )
    for variable, (name, route) in SECRETS.items():
        if not getattr(settings.webhooks, name):
            typer.echo(f"  {variable} is not set: {route} answers 503", err=True)
    announce_tokens(tokens)
    asyncio.run(warn_at_start(client_factory, settings.temporal.task_queue))
    # No access log: nothing in a webhook's URL is worth a line per delivery.
    uvicorn.run(
        create_app(settings, client_factory, ruleset),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
    )
    if connected:
        leave(0)  # the SDK's threads and CPython's teardown do not mix (see careflow.cli.common)
