"""The ``careflow`` command line."""

from __future__ import annotations

import typer

from careflow.cli.rules import rules_app

app = typer.Typer(
    name="careflow",
    help="Social-media customer care as durable Temporal workflows, driven by YAML rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(rules_app, name="rules")


if __name__ == "__main__":  # pragma: no cover
    app()
