"""Platform fault storms with the platform adapter: the fake X and Meta misbehave for the first
requests of a burst (``POST /_fake/faults``), each fault consumed in the order queued.

- drop-after: the platform records the post and the connection drops before its answer (the
  retry must find the post, not repeat it);
- 500: the platform fails before recording anything;
- 429: rate limited, with ``Retry-After``;
- delay: slow answers, most within the adapter's 8 s timeout, a few beyond it (the platform
  still records those posts after careflow stopped waiting);
- mixed: all of the above and drops before the post, interleaved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.reliability.burst import Sizes, burst, fault, running
from bench.reliability.tally import Result
from bench.reliability.traffic import plan

Faults = list[dict[str, Any]]


def drop_after(n: int) -> Faults:
    return [{"drop": "after", "count": n}]


def errors_500(n: int) -> Faults:
    return [{"status": 500, "count": n}]


def rate_limited(n: int) -> Faults:
    return [{"status": 429, "count": max(1, n // 2), "retry_after": 2}]


def delays(n: int) -> Faults:
    return [{"delay": 3, "count": max(1, n // 4)}, {"delay": 12, "count": 3, "skip": 2}]


def mixed(n: int) -> Faults:
    k = max(1, n // 10)
    return [
        {"drop": "after", "count": k},
        {"status": 500, "count": k, "skip": 1},
        {"drop": True, "count": k, "skip": 1},
        {"status": 429, "count": k, "retry_after": 1, "skip": 1},
        {"delay": 2, "count": k, "skip": 1},
        {"drop": "after", "count": k, "skip": 2},
        {"status": 503, "count": k, "skip": 1},
        {"drop": "after", "count": k, "skip": 1},
    ]


STORMS: dict[str, Callable[[int], Faults]] = {
    "drop-after": drop_after,
    "500": errors_500,
    "429": rate_limited,
    "delay": delays,
    "mixed": mixed,
}


async def storm(workdir: Path, sizes: Sizes, kind: str) -> Result:
    """A burst of ``sizes.storm`` posts into the storm ``kind``."""
    result = Result(f"storm-{kind}")
    async with running(workdir, result.name, "platform") as stack:
        faults = STORMS[kind](sizes.storm)
        for spec in faults:
            await fault(stack, **spec)
        result.notes.append(f"{sum(spec['count'] for spec in faults)} requests spoiled")
        await burst(stack, result, plan(sizes.storm), sizes)
    return result
