"""``careflow api`` without its start-up report, for when that report crashes the command.

Until d660b7f ``careflow api`` exited at start with ``AttributeError: 'Settings' object has no
attribute 'webhook_secret'`` (its check of which webhook secrets are set read names from before
the settings were split in parts). The suite starts ``careflow api`` first and falls back
to this module only when the command dies that way, saying so; the app and the server are the
same (``careflow.http.app.create_app`` under uvicorn, settings from the environment).

    python -m bench.reliability.intake_process PORT
"""

from __future__ import annotations

import sys

import uvicorn
from temporalio.client import Client

from careflow.cli.common import connection_for, log_careflow_lines, settings_from_env
from careflow.cli.inquiries import read_rules
from careflow.http.app import create_app
from careflow.temporal.connection import connect


def main(port: int) -> None:
    settings = settings_from_env()
    connection = connection_for(settings)
    ruleset = read_rules(settings.rules)

    async def client_factory() -> Client:
        return await connect(connection)

    log_careflow_lines()
    print(f"webhook intake on http://127.0.0.1:{port} (bench.reliability.intake_process)")
    uvicorn.run(
        create_app(settings, client_factory, ruleset),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
