"""The ``careflow`` command line."""

from __future__ import annotations

import typer

from careflow.cli.actions import actions_app
from careflow.cli.api import api_cli
from careflow.cli.audit import audit_app
from careflow.cli.codec import codec_cli
from careflow.cli.fake_platform import fake_platform_cli
from careflow.cli.inquiries import inquiries_app
from careflow.cli.report import report_app
from careflow.cli.rules import rules_app
from careflow.cli.service import service_app

app = typer.Typer(
    name="careflow",
    help="Social-media customer care as durable Temporal workflows, driven by YAML rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(rules_app, name="rules")
app.add_typer(audit_app, name="audit")
# Groups without a name add their commands at the top level: `careflow submit`, `careflow up`…
for group in (
    service_app,
    inquiries_app,
    actions_app,
    report_app,
    codec_cli,
    api_cli,
    fake_platform_cli,
):
    app.add_typer(group)


if __name__ == "__main__":  # pragma: no cover
    app()
