"""A broken rule file: an ops engineer saves a typo while careflow runs. New inquiries must wait
(their rules cannot load: nothing is sent, nothing is lost) and every one of them must be
acknowledged once the file is fixed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bench.reliability import hygiene
from bench.reliability.burst import ACK_TIMEOUT, QUIET, Sizes, posts_of, running
from bench.reliability.tally import Result, acknowledgements, settle
from bench.reliability.traffic import Intake, deliver, plan

BROKEN_FOR = 8.0  # seconds the file stays broken once the posts are in


async def broken_rules(workdir: Path, sizes: Sizes) -> Result:
    result = Result("broken-rules")
    async with running(workdir, result.name, "platform") as stack:
        started = time.monotonic()
        posts = plan(sizes.rules)
        read = posts_of(stack)
        stack.break_rules()
        intake = await deliver(stack.api_url, posts, stack.secrets.webhooks, Intake())
        result.tried = len(posts)
        await asyncio.sleep(BROKEN_FOR)
        early = sum(1 for n in acknowledgements(await read(), posts).values() if n)
        if early:
            result.problems.append(f"{early} inquiries were acknowledged under a broken rule file")
        waiting = await _status(
            stack.api_url, stack.secrets.agent_token, posts[0].door, posts[0].post_id
        )
        result.notes.append(f"an inquiry's status while broken: {waiting}")
        stack.break_rules(broken=False)
        counts = await settle(read, posts, intake.accepted, ACK_TIMEOUT, QUIET)
        result.count(counts, intake.accepted)
        result.notes.append(
            f"acknowledged {time.monotonic() - started - BROKEN_FOR:.0f}s after the fix"
        )
        result.problems += hygiene.check(stack)
        result.seconds = time.monotonic() - started
    return result


async def _status(api_url: str, token: str, door: str, post_id: str) -> str:
    """The agent API's answer for one waiting inquiry: its status code and first words."""
    channel = door.split("-")[0]
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(
            f"{api_url}/inquiries/inquiry-{channel}-{post_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
    return f"{answer.status_code} {answer.text[:160]}"
