"""``careflow up|worker|setup``: run careflow on one machine, or as services on a cluster.

``up`` is the one-command local service: the embedded Temporal dev server (SQLite under
``$CAREFLOW_HOME``), the worker in this process, optionally the demo feed. Ctrl-C or SIGTERM
stops the worker gracefully (in-flight deliveries finish), then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from temporalio.client import Client

from careflow import client as care
from careflow.cli.common import fail, leave, require_free_port, with_client
from careflow.cli.inquiries import read_rules
from careflow.cli.render import console as make_console
from careflow.config import Settings
from careflow.demo import DEMO_PACK, run_demo
from careflow.devserver import DevServer
from careflow.engine.ruleset import Ruleset
from careflow.intake_api import create_app
from careflow.worker import (
    ConfigurationError,
    channel_adapter,
    connect,
    data_converter,
    encryption_summary,
    run_worker,
)

service_app = typer.Typer()


def _log_worker_lines() -> None:
    """The worker's own INFO lines (where it runs, when it stops); the SDK's warnings only."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("careflow").setLevel(logging.INFO)


def _check_config(settings: Settings) -> Ruleset:
    """A broken rule file or setting is said now, not at the first inquiry; the rules, checked."""
    ruleset = read_rules(settings.rules)
    try:
        channel_adapter(settings)
        data_converter(settings)  # the encryption keys
    except ConfigurationError as error:
        fail(str(error))
    return ruleset


@service_app.command("worker")
def worker_command() -> None:
    """Run a worker for TEMPORAL_ADDRESS until SIGTERM or Ctrl-C (in-flight work finishes)."""
    _log_worker_lines()
    settings = Settings.from_env()
    _check_config(settings)

    async def action(client: Client, settings: Settings) -> None:
        try:
            await run_worker(settings, client)
        except ConfigurationError as error:
            raise care.CareflowError(str(error)) from None

    with_client(action, settings)


@service_app.command("setup")
def setup_command() -> None:
    """Register careflow's search attributes on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE."""

    async def action(client: Client, settings: Settings) -> int:
        done = await care.register_search_attributes(client, settings.namespace)
        where = f"namespace {settings.namespace} at {settings.temporal_address}"
        if done.added:
            typer.echo(f"registered on {where}: {', '.join(done.added)}")
        if done.present:
            typer.echo(f"already there: {', '.join(done.present)}")
        for conflict in done.conflicts:
            typer.echo(f"error: {conflict}", err=True)
        return 1 if done.conflicts else 0

    with_client(action)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class IntakeApi:
    """The webhook intake (``careflow.intake_api``) served by uvicorn in its own thread.

    In a thread, uvicorn leaves signal handling alone: Ctrl-C stays careflow's, which stops the
    worker, this, then the server. The thread has its own event loop and its own client.
    """

    def __init__(self, settings: Settings, ruleset: Ruleset, port: int) -> None:
        async def client_factory() -> Client:
            return await connect(settings)

        app = create_app(settings, client_factory, ruleset)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, access_log=False, log_level="warning"
        )
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="careflow-api", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _banner(
    console: Console, server: DevServer, api: IntakeApi, settings: Settings, demo: bool
) -> None:
    console.print("[bold]careflow is up[/]")
    console.print(f"  Temporal gRPC  {server.address}   (TEMPORAL_ADDRESS for other commands)")
    console.print(f"  Web UI         {server.ui_url}")
    console.print(
        f"  webhooks       {api.url}/webhooks/{{generic,x,meta}}   ({api.url}/openapi.json)"
    )
    console.print(f"  outbox         {settings.outbox}   (careflow outbox --follow)")
    console.print(f"  rules          {settings.rules}")
    console.print(f"  encryption     {encryption_summary(settings)}")
    if demo and Path(settings.rules).resolve() != DEMO_PACK:
        console.print(f"  demo rules     {DEMO_PACK}   (the demo's inquiries name it)")
    console.print(
        f"  state          {settings.home / 'temporal.db'}   (inquiries survive a restart)"
    )
    console.print("Ctrl-C stops the worker (in-flight deliveries finish), then the server.")


async def _serve(
    server: DevServer, api: IntakeApi, settings: Settings, demo: bool, console: Console
) -> None:
    client = await server.wait_ready(settings)
    api.start()
    _banner(console, server, api, settings, demo)
    worker = asyncio.create_task(run_worker(settings, client))
    feed = asyncio.create_task(run_demo(client, settings, console)) if demo else None
    try:
        await worker  # returns once SIGINT/SIGTERM stopped it
    except ConfigurationError as error:
        raise care.CareflowError(str(error)) from None
    finally:
        signal.signal(signal.SIGTERM, _interrupt)  # run_worker handed SIGTERM back to default
        if feed is not None:
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed


@service_app.command("up")
def up_command(
    rules: Annotated[
        str | None, typer.Option("--rules", help="Rule file (default: CAREFLOW_RULES).")
    ] = None,
    temporal_port: Annotated[int, typer.Option("--temporal-port", help="gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option("--ui-port", help="Web UI port.")] = 8233,
    api_port: Annotated[
        int, typer.Option("--api-port", help="Webhook intake port (careflow api).")
    ] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Play a two-minute demo feed once the worker is up.")
    ] = False,
) -> None:
    """Temporal dev server, worker and webhook intake in one command; state under $CAREFLOW_HOME."""
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _log_worker_lines()
    env = Settings.from_env()
    settings = replace(env, temporal_address=f"127.0.0.1:{temporal_port}", rules=rules or env.rules)
    ruleset = _check_config(settings)
    if demo:
        read_rules(str(DEMO_PACK))  # it lives in the source tree, next to the examples
    require_free_port(api_port, "127.0.0.1")
    api = IntakeApi(settings, ruleset, api_port)
    console = make_console()
    signal.signal(signal.SIGTERM, _interrupt)  # so that `finally` stops the server
    try:
        server = DevServer.start(settings.home, temporal_port, ui_port)
    except care.CareflowError as error:
        fail(str(error))
    code = 0
    try:
        asyncio.run(_serve(server, api, settings, demo, console))
    except KeyboardInterrupt:
        pass
    except care.CareflowError as error:
        typer.echo(f"error: {error}", err=True)
        code = 1
    finally:
        api.stop()
        console.print("stopping the Temporal server…")
        server.stop()
    console.print("stopped")
    leave(code)
