"""kill -9 mid-burst: of the worker (then a new one starts), or of the Temporal dev server (then
it starts again on the same SQLite file and port). Every inquiry the intake took must end
acknowledged exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.reliability.burst import Sizes, burst, posts_of, running
from bench.reliability.stack import Adapter, Stack
from bench.reliability.tally import Result, acknowledgements
from bench.reliability.traffic import Intake, Planned, plan

KILL_AT = 0.35  # share of the burst acknowledged when the kill comes
DOWN_FOR = 2.0  # seconds nothing runs in the killed process's place
# The platform's answers reach the worker this much later (``SlowAnswers``), so that about ten
# posts are recorded by the platform and not yet known to the worker when the kill comes: the
# case where a retry must find the post, not repeat it.
SLOW_ANSWER = 1.0


async def _kill_when(stack: Stack, posts: list[Planned], share: float) -> str:
    """Wait until ``share`` of the posts are acknowledged; say how far the burst got."""
    read = posts_of(stack)
    deadline = time.monotonic() + 300
    while True:
        acked = len(acknowledgements(await read(), posts))
        if acked >= share * len(posts) or time.monotonic() > deadline:
            return f"{acked} of {len(posts)} acknowledged"
        await asyncio.sleep(0.2)


async def kill_worker(workdir: Path, sizes: Sizes, adapter: Adapter) -> Result:
    """kill -9 of the worker when 35% of the burst is acknowledged, a new worker 2 s later."""
    result = Result(f"kill-worker-{adapter}")
    slow = SLOW_ANSWER if adapter == "platform" else 0.0
    async with running(workdir, result.name, adapter, slow) as stack:
        posts = plan(sizes.burst if adapter == "sandbox" else sizes.platform_burst)

        async def during(intake: Intake) -> None:
            progress = await _kill_when(stack, posts, KILL_AT)
            stack.worker.kill9()
            result.notes.append(f"worker killed: {len(intake.accepted)} taken in, {progress}")
            await asyncio.sleep(DOWN_FOR)
            await stack.restart_worker()

        await burst(stack, result, posts, sizes, during)
    return result


async def kill_server(workdir: Path, sizes: Sizes, adapter: Adapter) -> Result:
    """kill -9 of the Temporal dev server when half the burst is in; 2 s later it starts
    again on the same database and port. Meanwhile the intake answers 503 and the customers'
    platforms redeliver."""
    result = Result(f"kill-server-{adapter}")
    slow = SLOW_ANSWER if adapter == "platform" else 0.0
    async with running(workdir, result.name, adapter, slow) as stack:
        posts = plan(sizes.burst if adapter == "sandbox" else sizes.platform_burst)

        async def during(intake: Intake) -> None:
            # Half the posts in: the intake meets the outage too, and redeliveries follow.
            while len(intake.accepted) < len(posts) / 2 and len(intake.refused) == 0:
                await asyncio.sleep(0.05)
            progress = f"{len(acknowledgements(await posts_of(stack)(), posts))} acknowledged"
            stack.server.kill9()
            result.notes.append(f"server killed: {len(intake.accepted)} taken in, {progress}")
            await asyncio.sleep(DOWN_FOR)
            await _restart(stack, result)

        await burst(stack, result, posts, sizes, during)
    return result


async def _restart(stack: Stack, result: Result) -> None:
    await stack.restart_server()
    if not stack.worker.running():  # said, not hidden: a worker must outlive its server
        result.problems.append("the worker exited while the server was down")
        await stack.restart_worker()
