"""The reliability suite's short version (``python -m bench.reliability`` runs the whole of it):
kill -9 of the worker mid-burst with the platform adapter, and a storm of connections dropped
after the platform recorded the post. Every inquiry the intake takes is acknowledged on the
(fake) platform exactly once: 0 lost, 0 duplicated.

Each test starts its own Temporal dev server, fake platform, intake and worker as processes on
free ports, and stops them all however it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bench.reliability.burst import Sizes
from bench.reliability.kills import kill_worker
from bench.reliability.processes import REGISTRY, leftovers, stop_all
from bench.reliability.storms import storm
from bench.reliability.tally import Result, table

SMALL = Sizes(burst=30, platform_burst=30, storm=15, rules=5, concurrency=10)


def run(scenario: Coroutine[Any, Any, Result]) -> Result:
    """Run one scenario to its end; every process it started is stopped afterwards."""
    try:
        result = asyncio.run(scenario)
    finally:
        groups = [child.pid for child in REGISTRY if child.process is not None]
        stop_all()
    assert leftovers(groups) == [], "processes outlived the scenario"
    return result


def test_kill_9_of_the_worker_mid_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    result = run(kill_worker(tmp_path, SMALL, adapter="platform"))
    assert result.accepted == result.tried, table([result])
    assert result.ok, table([result])


def test_dropped_connections_after_the_post_double_nothing(tmp_path: Path) -> None:
    result = run(storm(tmp_path, SMALL, kind="drop-after"))
    assert result.accepted == result.tried, table([result])
    assert result.ok, table([result])
