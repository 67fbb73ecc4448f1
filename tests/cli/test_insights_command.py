"""``careflow insights``: a wrong period or grouping is one line, before any connection."""

from __future__ import annotations

from typer.testing import CliRunner

from careflow.cli.main import app


def test_a_period_that_is_no_duration_is_one_line() -> None:
    result = CliRunner().invoke(app, ["insights", "--since", "lastweek"])
    assert result.exit_code == 1
    assert "error: --since 'lastweek' is not a duration" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_grouping_is_one_line() -> None:
    result = CliRunner().invoke(app, ["insights", "--by", "planet"])
    assert result.exit_code == 1
    assert "error: --by 'planet': use segment, channel or category" in result.output
