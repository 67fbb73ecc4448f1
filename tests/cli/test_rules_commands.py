"""The `careflow rules` commands as a user runs them: exit codes, output lines, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.engine.checker import check_text
from tests.conftest import DEFAULT_PACK, EXAMPLES, MINIMAL, ROOT, explain_args

runner = CliRunner()
CAREFLOW = [sys.executable, "-m", "careflow.cli.main"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real command in a child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*CAREFLOW, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def test_check_valid_files_exits_zero(tmp_path: Path) -> None:
    result = run("rules", "check", str(DEFAULT_PACK), str(ROOT / "rules"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_check_reports_each_problem_of_each_file_and_exits_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        MINIMAL.replace("name: minimal", "name: minimal\nnmae: x").replace("30m", "30x")
    )
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    result = run(
        "rules", "check", str(broken), str(good), str(junk), str(tmp_path / "missing.yaml")
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{broken}:3:1: unknown key 'nmae' (did you mean 'name'?)",
        f"{broken}:5:38: '30x' is not a duration: use a number and a unit s, m, h or d, "
        "e.g. 45s, 30m, 4h, 2d",
        f"{junk}:1:1: not a UTF-8 text file (invalid byte sequence)",
        f"{tmp_path / 'missing.yaml'}:1:1: no such file",
    ]
    assert "Traceback" not in result.stderr


def test_check_expands_folders(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "a.yml").write_text("version: 1\n")
    (tmp_path / "notes.txt").write_text("not a rule file")
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"{tmp_path / 'nested' / 'a.yml'}:1:1: missing")


def test_explain_json_through_the_entry_point() -> None:
    result = run(*explain_args("billing", "--json"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("dropped", "drop_reason", "category", "priority", "queue", "privatize", "windows",
                "fired", "actions", "deadlines"):  # fmt: skip
        assert key in report
    assert report["privatize"] == "required"


def test_explain_human_output() -> None:
    result = runner.invoke(app, explain_args("spam-giveaway"))
    assert result.exit_code == 0
    assert "DROPPED: spam — no workflow would start" in result.stdout
    assert "1. drop-giveaway-spam" in result.stdout


def test_explain_bad_inquiry_says_what_and_where(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"id": "1",\n  "text": }')
    result = run("rules", "explain", "--rules", str(DEFAULT_PACK), "--inquiry", str(bad_json))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bad_json}:2:11: not valid JSON")
    invalid = tmp_path / "invalid.json"
    data = json.loads((EXAMPLES / "question.json").read_text())
    data["kind"] = "dm"
    del data["created_at"]
    invalid.write_text(json.dumps(data))
    result = run("rules", "explain", "--rules", str(DEFAULT_PACK), "--inquiry", str(invalid))
    assert result.returncode == 1
    assert f"{invalid}: kind: Input should be 'public' or 'private'" in result.stderr
    assert f"{invalid}: created_at: Field required" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_with_broken_rules_prints_the_problems(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 2\n")
    result = runner.invoke(
        app,
        ["rules", "explain", "--rules", str(rules), "--inquiry", str(EXAMPLES / "question.json")],
    )
    assert result.exit_code == 1
    assert f"{rules}:1:10: must be 1, not 2" in result.output


def test_explain_rejects_unknown_event_and_field() -> None:
    base = explain_args("question")
    result = runner.invoke(app, [*base, "--event", "recieved"])
    assert result.exit_code == 2
    assert "unknown event 'recieved' (did you mean 'received'?)" in result.output
    result = runner.invoke(app, [*base, "--field", "mesage.text=hi"])
    assert result.exit_code == 2
    assert "(did you mean 'message.text'?)" in result.output


def test_hours_prints_published_hours_and_a_bio() -> None:
    result = runner.invoke(app, ["rules", "hours", "--rules", str(DEFAULT_PACK)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Acme — customer care hours and response times",
        "",
        "We're here Mon–Fri 08:00–20:00, Sat 10:00–16:00 (New York time); closed on 26 Nov 2026, "
        "25 Dec 2026 and 1 Jan 2027. We reply within 1 hour during these hours.",
        "Urgent cases: we reply within 30 minutes, around the clock.",
        "",
        "Profile bio (107/160 characters):",
        "We're here Mon–Fri 08:00–20:00, Sat 10:00–16:00 (New York time). We reply within 1 hour "
        "during these hours.",
    ]


def _assert_clean(raw: bytes | str) -> None:
    result = check_text(raw, "f.yaml")
    for problem in result.problems:
        assert problem.line >= 1 and problem.column >= 1
        assert problem.message and "\n" not in problem.message
        assert str(problem).startswith(f"f.yaml:{problem.line}:{problem.column}: ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_check_never_crashes_on_junk(raw: bytes | str) -> None:
    _assert_clean(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_check_never_crashes_on_damaged_rule_files(data: st.DataObject) -> None:
    text = DEFAULT_PACK.read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 40)))
        insert = data.draw(
            st.sampled_from(["", ":", "- ", "{", "]", "  ", "\n", "*a", "&a ", "!!x ", "'"])
        )
        text = text[:start] + insert + text[end:]
    _assert_clean(text)
