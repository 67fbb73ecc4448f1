"""Malformed, forged and oversized inputs at the intake and the agent API (``inputs``): none may
answer 5xx or go unanswered, the strange-but-valid posts the intake takes are acknowledged once,
and ordinary posts sent afterwards still are (nothing was wedged)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bench.reliability import hygiene
from bench.reliability.burst import ACK_TIMEOUT, QUIET, Sizes, posts_of, running
from bench.reliability.inputs import Probe, all_probes
from bench.reliability.tally import Result, settle
from bench.reliability.traffic import Intake, Planned, deliver, plan

CONCURRENCY = 8


def _taken(probe: Probe, answer: httpx.Response) -> set[str]:
    """The probe's posts the intake says it took (by the workflow ids it names)."""
    if not answer.is_success or not probe.posts:
        return set()
    try:
        body = answer.json()
    except ValueError:
        return set()
    named = " ".join(
        str(item) for key in ("started", "continued", "duplicates") for item in body.get(key) or []
    )
    return {
        post.post_id
        for post in probe.posts
        if f"-{post.post_id}" in named or f"-{post.customer_id}" in named
    }


async def bad_inputs(workdir: Path, sizes: Sizes) -> Result:
    result = Result("bad-inputs")
    async with running(workdir, result.name, "platform") as stack:
        started = time.monotonic()
        probes = all_probes(stack.secrets)
        accepted: set[str] = set()
        statuses: dict[int, int] = {}
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(http: httpx.AsyncClient, probe: Probe) -> None:
            async with gate:
                try:
                    answer = await http.request(
                        probe.method,
                        stack.api_url + probe.path,
                        headers=probe.headers,
                        content=probe.body,
                    )
                except httpx.HTTPError as error:
                    result.problems.append(f"{probe.label}: no answer ({type(error).__name__})")
                    return
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code >= 500:
                    result.problems.append(
                        f"{probe.label}: {answer.status_code} {answer.text[:120]}"
                    )
                accepted.update(_taken(probe, answer))

        async with httpx.AsyncClient(timeout=60) as http:
            await asyncio.gather(*(one(http, probe) for probe in probes))
        result.tried = len(probes)
        result.notes.append(f"answers: {dict(sorted(statuses.items()))}")
        result.notes.append(f"{len(accepted)} strange but valid posts taken in")
        # Ordinary customers afterwards: the intake and the worker still serve them.
        control = plan(10)
        intake = await deliver(
            stack.api_url, control, stack.secrets.webhooks, Intake(), sizes.concurrency
        )
        accepted |= intake.accepted
        tracked: list[Planned] = [post for probe in probes for post in probe.posts] + control
        counts = await settle(posts_of(stack), tracked, accepted, ACK_TIMEOUT, QUIET)
        result.count(counts, accepted)
        result.accepted = len(accepted)
        labels = {post.post_id: probe.label for probe in probes for post in probe.posts}
        result.problems += [
            f"lost: {labels.get(post, 'an ordinary post')} (post {post})"
            for post in sorted(accepted)
            if not counts[post]
        ]
        result.problems += [
            f"duplicated: {labels.get(post, 'an ordinary post')} (post {post})"
            for post in sorted(counts)
            if counts[post] > 1
        ]
        missing_control = [post.post_id for post in control if not counts[post.post_id]]
        if missing_control:
            result.problems.append(
                f"{len(missing_control)} ordinary posts after the storm not acknowledged"
            )
        sockets = hygiene.listeners(stack.children)
        result.notes.append(
            f"{len(sockets)} listening sockets: "
            + ", ".join(f"{name}:{port}" for name, _, port in sockets)
        )
        result.problems += hygiene.check(stack)
        result.seconds = time.monotonic() - started
    return result
