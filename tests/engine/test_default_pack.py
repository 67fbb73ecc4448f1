"""What `careflow rules explain` says for every example inquiry and every rule of the default pack."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from careflow.cli.main import app
from tests.conftest import DEFAULT_PACK, EXAMPLES, explain_args

runner = CliRunner()


def explain(example: str, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, explain_args(example, "--json", *args))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


# example -> (dropped, drop_reason, category, priority, queue, privatize, windows, tags, fired)
RECEIVED = {
    "spam-giveaway": (True, "spam", "general", "normal", "general", "offer", "standard", [], ["drop-giveaway-spam"]),
    "retweet": (True, "repost", "general", "normal", "general", "offer", "standard", [], ["drop-retweets"]),
    "late-delivery": (False, None, "late_delivery", "normal", "logistics", "required", "standard", [], ["late-delivery"]),
    "return": (False, None, "returns", "normal", "returns", "offer", "standard", [], ["returns"]),
    "warranty": (False, None, "warranty", "normal", "product", "offer", "standard", [], ["warranty"]),
    "billing": (False, None, "billing", "normal", "billing", "required", "standard", [], ["billing"]),
    "gift-card": (False, None, "gift_cards", "normal", "gift_cards", "required", "standard", [], ["gift-cards"]),
    "account": (False, None, "account", "normal", "accounts", "required", "standard", [], ["account"]),
    "personal-data-public": (
        False, None, "general", "normal", "general", "required", "standard",
        ["personal-data-in-public"], ["personal-data-in-public"],
    ),
    "private-dm": (False, None, "general", "normal", "general", "never", "standard", [], ["already-private"]),
    "high-reach": (
        False, None, "late_delivery", "urgent", "logistics", "required", "urgent",
        ["pr-risk"], ["late-delivery", "high-reach"],
    ),
    "verified": (False, None, "general", "high", "general", "offer", "standard", ["verified"], ["verified-author"]),
    "legal-threat": (False, None, "general", "urgent", "general", "offer", "urgent", ["pr-risk"], ["legal-or-press"]),
    "question": (False, None, "general", "normal", "general", "offer", "standard", [], []),
    "friday-evening": (False, None, "general", "normal", "general", "offer", "standard", [], []),
    "outage-denver": (False, None, "general", "normal", "general", "offer", "standard", [], ["colorado-customers"]),
}  # fmt: skip


def test_every_example_is_covered() -> None:
    assert set(RECEIVED) == {path.stem for path in EXAMPLES.glob("*.json")}


@pytest.mark.parametrize("example", sorted(RECEIVED))
def test_received_decision(example: str) -> None:
    report = explain(example)
    dropped, reason, category, priority, queue, privatize, windows, tags, fired = RECEIVED[example]
    assert report["dropped"] is dropped
    assert report["drop_reason"] == reason
    assert (report["category"], report["priority"], report["queue"]) == (category, priority, queue)
    assert (report["privatize"], report["windows"], report["tags"]) == (privatize, windows, tags)
    assert report["fired"] == fired
    assert list(report["why"]) == fired
    assert report["ruleset"]["name"] == "default"
    assert len(report["ruleset"]["digest"]) == 64
    if dropped:
        assert report["deadlines"] is None
    else:
        assert set(report["deadlines"]) == {"acknowledge", "resolve"}


def test_high_reach_notifies_supervisors_with_rendered_alert() -> None:
    report = explain("high-reach")
    notify = [a for a in report["actions"] if "notify" in a]
    assert notify == [
        {
            "rule": "high-reach",
            "notify": {"target": "supervisors", "template": "high_reach_alert"},
            "text": "High-reach post on x by @techreviewdan (184000 followers), late_delivery: "
            "https://x.com/techreviewdan/status/1860000000000000011",
        }
    ]
    assert report["why"]["high-reach"] == ["author.followers gte 10000 (was 184000)"]
    # Urgent windows run around the clock: 10 minutes / 30 minutes after the post.
    assert report["deadlines"]["acknowledge"] == {
        "internal": "2026-11-17T15:15:00+00:00",
        "published": "2026-11-17T15:35:00+00:00",
    }


def test_why_names_the_matched_text() -> None:
    report = explain("late-delivery")
    (reason,) = report["why"]["late-delivery"]
    assert reason.endswith('(matched "hasn\'t arrived")')


def test_friday_evening_post_waits_for_saturday_opening() -> None:
    """Fri 19:55 New York: 5 minutes on Friday, the remaining 25 from Saturday 10:00."""
    report = explain("friday-evening")
    assert report["deadlines"]["acknowledge"] == {
        "internal": "2026-11-21T15:25:00+00:00",  # Sat 10:25 EST
        "published": "2026-11-21T15:55:00+00:00",  # Sat 10:55 EST
    }


# (event, fields, example) -> (fired, action kinds)
EVENTS = [
    ("window.internal", ["clock=acknowledge"], "question", ["safety-net-ack"], ["reply"]),
    ("window.internal", ["clock=resolve"], "question", [], []),
    ("window.warning", ["clock=acknowledge"], "high-reach", ["urgent-warning"], ["notify"]),
    ("window.warning", ["clock=acknowledge"], "question", [], []),
    ("window.published", ["clock=resolve"], "question", ["published-breach"], ["notify", "tag"]),
    (
        "customer.message",
        ["message.text=my email is a.b@example.com", "message.private=false"],
        "question",
        ["personal-data-in-reply"],
        ["invite_private", "tag"],
    ),
    (
        "customer.message",
        ["message.text=my email is a.b@example.com", "message.private=true"],
        "question",
        [],
        [],
    ),
    ("privatize.given_up", [], "late-delivery", ["privatize-declined"], ["tag"]),
    ("follow_up.reply", ["message.text=Still waiting, not fixed"], "late-delivery", ["follow-up-not-fixed"], ["reopen"]),
    ("follow_up.reply", ["message.text=All sorted, thank you!"], "late-delivery", ["follow-up-thanks"], ["close"]),
    ("follow_up.reply", ["message.text=ok"], "late-delivery", [], []),
    ("follow_up.rating", ["rating.score=1", "message.text=1"], "late-delivery", ["low-rating"], ["reopen", "escalate"]),
    ("follow_up.rating", ["rating.score=3", "message.text=meh"], "late-delivery", [], []),
    ("follow_up.rating", ["rating.score=5", "message.text=5"], "late-delivery", ["high-rating"], ["reply", "close"]),
    ("reopened", ["reopens=1"], "question", [], []),
    ("reopened", ["reopens=2"], "question", ["reopened-twice", "reopened-twice-priority"], ["escalate", "set"]),
    ("reopened", ["reopens=2"], "high-reach", ["reopened-twice"], ["escalate"]),
]  # fmt: skip


@pytest.mark.parametrize(("event", "fields", "example", "fired", "kinds"), EVENTS)
def test_rules_on_later_events(
    event: str, fields: list[str], example: str, fired: list[str], kinds: list[str]
) -> None:
    args = ["--event", event]
    for field in fields:
        args += ["--field", field]
    report = explain(example, *args)
    assert report["fired"] == fired
    assert [next(k for k in a if k not in ("rule", "text")) for a in report["actions"]] == kinds


def test_not_fixed_stops_before_the_thanks_rule() -> None:
    """'not fixed' contains 'fixed': stop: true keeps the close rule from firing too."""
    report = explain(
        "late-delivery", "--event", "follow_up.reply", "--field", "message.text=not fixed"
    )
    assert report["fired"] == ["follow-up-not-fixed"]


def test_safety_net_ack_renders_the_published_window() -> None:
    report = explain("late-delivery", "--event", "window.internal", "--field", "clock=acknowledge")
    assert report["actions"][0]["text"] == (
        "Hi Sam K, thanks for reaching out and sorry for the trouble. We're looking into it now "
        "and will get back to you within 1 hour."
    )


def test_every_rule_of_the_default_pack_is_exercised() -> None:
    pack = yaml.safe_load(DEFAULT_PACK.read_text())
    names = {rule["name"] for rule in pack["rules"]}
    exercised = {name for row in RECEIVED.values() for name in row[-1]}
    exercised |= {name for row in EVENTS for name in row[3]}
    assert names == exercised


def test_pack_is_valid_and_advertises_its_schema() -> None:
    first_line = DEFAULT_PACK.read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schemas/rules.schema.json"
    result = runner.invoke(app, ["rules", "check", str(DEFAULT_PACK)])
    assert result.exit_code == 0
    assert result.stdout == ""


def test_every_shipped_rule_file_is_valid_and_points_editors_at_the_schema() -> None:
    from tests.conftest import ROOT, RULES

    files = sorted(RULES.rglob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        first_line = path.read_text().splitlines()[0]
        schema = first_line.removeprefix("# yaml-language-server: $schema=")
        assert (path.parent / schema).resolve() == ROOT / "schemas" / "rules.schema.json"
        result = runner.invoke(app, ["rules", "check", str(path)])
        assert result.exit_code == 0, result.stdout
