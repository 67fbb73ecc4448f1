"""``careflow doctor``: which platform credentials work, one line each, no secrets printed.

Each configured credential is tried against its platform's "who am I" call
(``activities.adapters.whoami``); the exit code is 1 when any configured one fails, so a
deployment can run it before it starts workers. A refresh token is used (and rotated, and
stored) as the workers use it: under the same lock, in the same ``$CAREFLOW_HOME``.
"""

from __future__ import annotations

import asyncio
import logging

import typer

from activities.adapters.whoami import check_all
from careflow.cli.common import settings_from_env

doctor_cli = typer.Typer()
MARKS = {True: "ok", False: "FAILED", None: "-"}


@doctor_cli.command("doctor")
def doctor_command() -> None:
    """Check the X and Meta credentials against each platform's "who am I" call."""
    settings = settings_from_env(temporal_profile=False)  # it never connects to Temporal
    logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx's INFO lines print URLs
    checks = asyncio.run(check_all(settings.platform, settings.home))
    for check in checks:
        typer.echo(f"{MARKS[check.ok]:<7} {check.platform:<5} {check.detail}")
    raise typer.Exit(1 if any(check.ok is False for check in checks) else 0)
