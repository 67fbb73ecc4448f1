"""The shape most scenarios share: a fresh stack, a burst of customers' posts, something done
to the stack while the burst runs, then the count of acknowledgements once all is quiet."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.reliability import hygiene
from bench.reliability.stack import Adapter, Stack
from bench.reliability.tally import Posts, Result, fake_posts, outbox_posts, settle
from bench.reliability.traffic import Intake, Planned, deliver

# Long enough for a delivery's retries after a kill (10 s activity timeout, then backoff).
ACK_TIMEOUT = 150.0
QUIET = 12.0  # nothing new on the platform for this long: no retry is still on its way


@dataclass(frozen=True)
class Sizes:
    """How much each scenario sends: ``--quick`` and the full run differ only here."""

    burst: int  # posts in a kill scenario's burst, sandbox adapter
    platform_burst: int  # the same with the platform adapter (each post takes a second)
    storm: int  # posts per fault storm
    rules: int  # posts that arrive while the rule file is broken
    concurrency: int = 20


@asynccontextmanager
async def running(
    workdir: Path, name: str, adapter: Adapter, answer_delay: float = 0.0
) -> AsyncIterator[Stack]:
    """A started stack in ``workdir/name``, closed however the scenario ends."""
    stack = Stack(workdir / name, adapter, answer_delay)
    try:
        await stack.start()
        yield stack
    finally:
        await stack.aclose()


def posts_of(stack: Stack) -> Posts:
    return fake_posts(stack.fake_url) if stack.adapter == "platform" else outbox_posts(stack.outbox)


async def fault(stack: Stack, **spec: object) -> None:
    """Queue one fault on the fake platform (``POST /_fake/faults``)."""
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(f"{stack.fake_url}/_fake/faults", json=spec)
        answer.raise_for_status()


async def burst(
    stack: Stack,
    result: Result,
    posts: list[Planned],
    sizes: Sizes,
    during: Callable[[Intake], Awaitable[None]] | None = None,
) -> Intake:
    """Deliver ``posts`` while ``during`` does its damage, wait for the acknowledgements, count
    them into ``result`` and check hygiene; the intake's record is returned."""
    started = time.monotonic()
    intake = Intake()
    result.tried += len(posts)
    delivering = asyncio.create_task(
        deliver(stack.api_url, posts, stack.secrets.webhooks, intake, sizes.concurrency)
    )
    try:
        if during is not None:
            await during(intake)
        await delivering
    finally:
        delivering.cancel()
    delivered = time.monotonic() - started
    read = posts_of(stack)
    counts = await settle(read, posts, intake.accepted, ACK_TIMEOUT, QUIET)
    (stack.root / "posts.json").write_text(json.dumps(await read(), indent=1))  # for --keep
    result.notes.append(
        f"intake took the burst in {delivered:.0f}s, "
        f"all quiet {time.monotonic() - started - QUIET:.0f}s after the start"
    )
    result.count(counts, intake.accepted)
    if intake.refused:
        result.problems.append(f"{len(intake.refused)} posts never taken by the intake")
    refusals = {status: n for status, n in intake.statuses.items() if status != 200}
    if refusals:
        result.notes.append(f"intake answers other than 200, redelivered: {refusals}")
    found = stack.worker.output().count("was posted by an earlier attempt")
    if found:
        result.notes.append(f"{found} retries found their earlier attempt's post on the platform")
    result.problems += hygiene.check(stack)
    result.problems += [
        f"{child.name} is not running at the end" for child in stack.children if not child.running()
    ]
    result.seconds += time.monotonic() - started
    return intake
