"""rules/demo.yaml: valid, the default pack's rules exactly, and every timer in seconds."""

from __future__ import annotations

from datetime import timedelta

import yaml
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.devtools.demo import DEMO_PACK, EXAMPLES, SCENES
from careflow.engine.durations import parse_duration
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK

runner = CliRunner()


def test_demo_pack_passes_rules_check() -> None:
    result = runner.invoke(app, ["rules", "check", str(DEMO_PACK)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_demo_pack_has_the_default_rules_and_templates() -> None:
    demo, default = yaml.safe_load(DEMO_PACK.read_text()), yaml.safe_load(DEFAULT_PACK.read_text())
    assert demo["rules"] == default["rules"]
    assert demo["templates"] == default["templates"]
    assert demo["targets"] == default["targets"]


def test_demo_pack_plays_out_in_seconds_around_the_clock() -> None:
    pack = load_ruleset(DEMO_PACK).rule_file
    for policy in pack.windows.values():
        assert policy.calendar == "always"
        for clock in (policy.acknowledge, policy.resolve, policy.next_reply):
            assert clock is not None
            assert parse_duration(clock.published) <= timedelta(minutes=2)
    flow = pack.flow
    timers = [flow.privatize.remind_after, flow.privatize.give_up_after]
    timers += [flow.follow_up.after, flow.follow_up.wait]
    assert all(parse_duration(timer) <= timedelta(minutes=1) for timer in timers)


def test_demo_scenes_use_shipped_examples() -> None:
    assert [scene.__name__ for _, scene in SCENES] == [
        "spam",
        "late_delivery",
        "high_reach",
        "silent_question",
    ]
    for name in ("spam-giveaway", "late-delivery", "high-reach", "question"):
        assert (EXAMPLES / f"{name}.json").exists()
