"""The scenarios by name, in the order a full run takes them, and the two sizes of run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from bench.reliability.broken_rules import broken_rules
from bench.reliability.burst import Sizes
from bench.reliability.intake_abuse import bad_inputs
from bench.reliability.kills import kill_server, kill_worker
from bench.reliability.storms import STORMS, storm
from bench.reliability.tally import Result

Scenario = Callable[[Path, Sizes], Awaitable[Result]]

SCENARIOS: dict[str, Scenario] = {
    "kill-worker-sandbox": partial(kill_worker, adapter="sandbox"),
    "kill-worker-platform": partial(kill_worker, adapter="platform"),
    "kill-server-sandbox": partial(kill_server, adapter="sandbox"),
    "kill-server-platform": partial(kill_server, adapter="platform"),
    **{f"storm-{kind}": partial(storm, kind=kind) for kind in STORMS},
    "bad-inputs": bad_inputs,
    "broken-rules": broken_rules,
}

# About ten minutes on two cores, and about two.
FULL = Sizes(burst=400, platform_burst=200, storm=100, rules=30)
QUICK = Sizes(burst=60, platform_burst=60, storm=30, rules=10)
QUICK_SCENARIOS = (
    "kill-worker-platform",
    "storm-drop-after",
    "storm-mixed",
    "bad-inputs",
    "broken-rules",
)
