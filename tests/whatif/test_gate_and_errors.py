"""``--fail-if`` as a rule review's CI gate, and the mistakes that run nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.whatif.gate import GateError, parse_gate
from tests.whatif.conftest import Recorded

runner = CliRunner()


def whatif(recorded: Recorded, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(recorded.new), "--baseline", str(recorded.old),
         "--histories", str(recorded.histories), "--json", *extra],
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("expression", "fails"),
    [
        ("breaches.published > 0", True),  # one more published window missed
        ("breaches.added >= 2", False),
        ("drops.gained > 5%", True),  # 1 of 4 is 25%
        ("drops.gained > 25%", False),
        ("drops.lost > 0", False),
        ("notifications > 0", True),
        ("within_internal.lost >= 1", True),  # the return: its safety net came just late
        ("within_internal.lost >= 2", False),
        ("changed.category > 0", False),
        ("diverged > 0", False),  # the fast path replays no agent action
        ("changed >= 4", False),
    ],
)
def test_fail_if_exits_3_exactly_when_the_expression_holds(
    recorded: Recorded, expression: str, fails: bool
) -> None:
    code, out, err = whatif(recorded, "--fail-if", expression)
    assert code == (3 if fails else 0), err
    assert out.startswith("{")  # the report is printed either way
    assert (f"fail-if: {expression}" in err) == fails


def test_several_gates_name_each_that_failed(recorded: Recorded) -> None:
    code, _, err = whatif(
        recorded, "--fail-if", "drops.gained > 0", "--fail-if", "drops.lost > 0",
        "--fail-if", "breaches.published > 0",
    )  # fmt: skip
    assert code == 3
    assert "fail-if: drops.gained > 0: drops.gained is 1" in err
    assert "fail-if: breaches.published > 0: breaches.published is 1" in err
    assert "drops.lost" not in err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("breaches.publised > 0", "did you mean 'breaches.published'?"),
        ("drops.gained >> 5", "expected METRIC OP NUMBER"),
        ("__import__('os').system('x') > 0", "expected METRIC OP NUMBER"),
        ("drops.gained > five", "expected METRIC OP NUMBER"),
    ],
)
def test_a_bad_expression_is_a_sentence_not_code(text: str, words: str) -> None:
    with pytest.raises(GateError, match=None) as raised:
        parse_gate(text)
    assert words in str(raised.value)


def test_a_bad_gate_is_a_usage_error_before_anything_runs(recorded: Recorded) -> None:
    code, out, err = whatif(recorded, "--fail-if", "drops > 1")
    assert code == 2
    assert out == ""
    assert "unknown metric 'drops'" in err


def test_new_rules_that_do_not_compile_give_check_errors_and_run_nothing(
    recorded: Recorded, tmp_path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(recorded.new.read_text().replace("internal: 10m", "internal: 10x"))
    result = runner.invoke(
        app,
        ["rules", "whatif", "--rules", str(broken), "--histories", str(recorded.histories),
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{broken}:")
    line = result.stderr.splitlines()[0].split(":")
    assert line[1].isdigit() and line[2].isdigit()  # PATH:LINE:COL: message


def test_new_sections_the_old_rules_lack_still_work(recorded: Recorded, tmp_path) -> None:
    """A rule file with a calendar, a policy and a target the recorded rules never had."""
    grown = tmp_path / "grown.yaml"
    text = recorded.old.read_text().replace(
        "windows:\n",
        "calendars:\n  weekdays: {timezone: UTC, hours: {mon-sun: '00:00-24:00'}}\n"
        "windows:\n  quick: {calendar: weekdays, acknowledge: {internal: 1m, published: 2m}, "
        "resolve: {internal: 1h, published: 2h}}\n",
    ).replace("rules:\n", "rules:\n  - name: ship-quick\n    on: received\n"
              "    when: {text: {contains: ship}}\n    do: [{set: {windows: quick}}]\n")  # fmt: skip
    grown.write_text(text)
    result = runner.invoke(
        app, ["rules", "whatif", "--rules", str(grown), "--histories", str(recorded.histories),
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"field": "windows"' in result.stdout and '"after": "quick"' in result.stdout


def test_since_and_histories_are_one_or_the_other(recorded: Recorded) -> None:
    result = runner.invoke(app, ["rules", "whatif", "--rules", str(recorded.new)])
    assert result.exit_code == 2
    assert "give --since" in result.stderr
