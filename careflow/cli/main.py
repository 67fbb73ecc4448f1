"""The ``careflow`` command line."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from careflow.cli.actions import actions_app
from careflow.cli.api import api_cli
from careflow.cli.audit import audit_app
from careflow.cli.codec import codec_cli
from careflow.cli.doctor import doctor_cli
from careflow.cli.fake_platform import fake_platform_cli
from careflow.cli.inquiries import inquiries_app
from careflow.cli.insights import insights_app
from careflow.cli.intake import intake_app
from careflow.cli.proactive import proactive_app
from careflow.cli.qa import qa_app
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


def installed_version() -> str:
    """The installed distribution's version (pyproject.toml's, once installed)."""
    try:
        return version("careflow")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"careflow {installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Social-media customer care as durable Temporal workflows, driven by YAML rules."""


app.add_typer(rules_app, name="rules")
app.add_typer(audit_app, name="audit")
app.add_typer(intake_app, name="intake")
app.add_typer(proactive_app, name="proactive")
app.add_typer(qa_app, name="qa")
# Groups without a name add their commands at the top level: `careflow submit`, `careflow up`…
for group in (
    service_app,
    inquiries_app,
    actions_app,
    report_app,
    insights_app,
    codec_cli,
    api_cli,
    fake_platform_cli,
    doctor_cli,
):
    app.add_typer(group)


if __name__ == "__main__":  # pragma: no cover
    app()
