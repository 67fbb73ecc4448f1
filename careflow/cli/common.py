"""What every command that talks to Temporal shares: errors as one line, and a clean exit.

A user mistake (an unknown id, a rejected action, no server) prints ``error: <sentence>`` on
stderr and exits 1, never a traceback. Commands that opened a Temporal client leave with
``os._exit``: the SDK's Rust threads can abort CPython's own teardown at random
("PyGILState_Release", temporalio/sdk-python#300), which would turn a success into exit 134.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

import typer
from temporalio.client import Client

from careflow.errors import CareflowError
from careflow.settings import Settings
from careflow.temporal.connection import open_client

# Tests that run a command in-process switch this off; the real command always leaves this way.
HARD_EXIT = True


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def require_free_port(port: int, host: str) -> None:
    """Say now, in one line, that a server cannot listen where it was asked to."""
    from careflow.temporal.devserver import (
        port_in_use,  # careflow.temporal.devserver imports careflow.temporal.intake
    )

    try:
        busy = port_in_use(port, host)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror}")
    if busy:
        fail(f"port {port} is already in use: pick another with --port")


def leave(code: int) -> NoReturn:
    """Exit now, skipping interpreter teardown once a Temporal client exists (see above)."""
    if HARD_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


def with_client(
    action: Callable[[Client, Settings], Awaitable[int | None]],
    settings: Settings | None = None,
) -> NoReturn:
    """Connect (``TEMPORAL_ADDRESS``…), run ``action``, print its error if any, and exit."""
    settings = settings or Settings.from_env()
    connected = False

    async def main() -> int | None:
        nonlocal connected
        client = await open_client(settings)
        connected = True
        return await action(client, settings)

    try:
        code = asyncio.run(main()) or 0
    except CareflowError as error:
        typer.echo(f"error: {error}", err=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    if connected:
        leave(code)
    raise typer.Exit(code)


def log_careflow_lines() -> None:
    """For the long-running commands: careflow's own INFO lines (where it runs, what it took
    in, when it stops) and only the SDK's and libraries' warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("careflow").setLevel(logging.INFO)
