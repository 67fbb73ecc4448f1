"""What every command that talks to Temporal shares: errors as one line, and a clean exit.

A user mistake (an unknown id, a rejected action, no server) prints ``error: <sentence>`` on
stderr and exits 1, never a traceback. Commands that opened a Temporal client leave with
``os._exit``: the SDK's Rust threads can abort CPython's own teardown at random
("PyGILState_Release", temporalio/sdk-python#300), which would turn a success into exit 134.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

import typer
from temporalio.client import Client

from careflow.errors import CareflowError, ConfigurationError
from careflow.settings import Settings
from careflow.temporal.connection import Connection, open_client
from careflow.temporal.customers import CustomerIds, customer_ids

# Tests that run a command in-process switch this off; the real command always leaves this way.
HARD_EXIT = True


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_from_env(*, temporal_profile: bool = True) -> Settings:
    """The process's settings, read once; a Temporal profile that cannot be read is one line."""
    try:
        return Settings.from_env(temporal_profile=temporal_profile)
    except ConfigurationError as error:
        fail(str(error))


def connection_for(settings: Settings) -> Connection:
    """The process's one ``Connection``; unusable keys, exporters or TLS files are one line."""
    try:
        return Connection.of(settings)
    except ConfigurationError as error:
        fail(str(error))


def customer_key(settings: Settings) -> CustomerIds:
    """The CareCustomer hash key (made in the home when none is configured), or one line."""
    try:
        return customer_ids(settings.customer_keys)
    except ConfigurationError as error:
        fail(str(error))


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def require_free_port(port: int, host: str, flag: str = "--port", what: str = "") -> None:
    """Say now, in one line, that a server cannot listen where it was asked to, and which
    option moves it."""
    try:
        busy = port_in_use(port, host)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror}")
    if busy:
        what = f" ({what})" if what else ""
        fail(f"port {port}{what} is already in use: pick another with {flag}")


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
    connection: Connection | None = None,
) -> NoReturn:
    """Connect (``TEMPORAL_ADDRESS``…), run ``action``, print its error if any, and exit."""
    settings = settings or settings_from_env()
    connection = connection or connection_for(settings)
    connected = False

    async def main() -> int | None:
        nonlocal connected
        client = await open_client(connection)
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
