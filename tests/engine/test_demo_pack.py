"""rules/demo.yaml: valid, the default pack's rules plus the demo feed's stopwatch, the feed's
windows in seconds and everyone else's in minutes."""

from __future__ import annotations

from datetime import timedelta

import yaml
from typer.testing import CliRunner

from careflow.cli.main import app
from careflow.devtools.demo import DEMO_PACK, EXAMPLES, SCENES
from careflow.engine.durations import parse_duration
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK

runner = CliRunner()


def test_demo_pack_passes_rules_check() -> None:
    result = runner.invoke(app, ["rules", "check", str(DEMO_PACK)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_demo_pack_has_the_default_rules_and_templates() -> None:
    demo, default = yaml.safe_load(DEMO_PACK.read_text()), yaml.safe_load(DEFAULT_PACK.read_text())
    names = [rule["name"] for rule in demo["rules"]]
    assert demo["rules"][: len(default["rules"])] == default["rules"]
    assert names[len(default["rules"]) :] == ["demo-feed-stopwatch", "demo-feed-stopwatch-urgent"]
    assert demo["templates"] == default["templates"]
    assert demo["targets"] == default["targets"]


def test_the_feed_plays_out_in_seconds_and_people_get_minutes() -> None:
    ruleset = load_ruleset(DEMO_PACK)
    pack = ruleset.rule_file
    for name, policy in pack.windows.items():
        assert policy.calendar == "always"
        for clock in (policy.acknowledge, policy.resolve, policy.next_reply):
            assert clock is not None
            if name.startswith("stopwatch"):
                assert parse_duration(clock.published) <= timedelta(minutes=2)
            else:  # what a person submitting a post on the tour gets: minutes to act
                assert parse_duration(clock.internal) >= timedelta(minutes=3)
    flow = pack.flow
    timers = [flow.privatize.remind_after, flow.privatize.give_up_after]
    timers += [flow.follow_up.after, flow.follow_up.wait]
    assert all(parse_duration(timer) <= timedelta(minutes=1) for timer in timers)
    for name in ("late-delivery", "question", "high-reach", "warranty", "billing"):
        post = Inquiry.model_validate_json((EXAMPLES / f"{name}.json").read_text())
        for suffix in ("", "-2", "-13"):
            conversation = f"{post.conversation_id}{suffix}"
            windows = ruleset.evaluate(
                "received", post.model_copy(update={"conversation_id": conversation})
            ).values.windows
            feed = name in ("late-delivery", "question", "high-reach")
            urgent = name == "high-reach"
            expected = ("stopwatch" if feed else "standard") + (
                "-urgent" if feed and urgent else ""
            )
            assert windows == expected, (name, suffix, windows)


def test_demo_scenes_use_shipped_examples() -> None:
    assert [scene.__name__ for _, scene in SCENES] == [
        "spam",
        "late_delivery",
        "high_reach",
        "silent_question",
        "outage_burst",
    ]
    for name in ("spam-giveaway", "late-delivery", "high-reach", "question"):
        assert (EXAMPLES / f"{name}.json").exists()
