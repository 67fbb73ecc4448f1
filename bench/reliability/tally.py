"""Counting what reached the customers: acknowledgements per inquiry, on the fake platform or in
the sandbox outbox, and the one line each scenario prints.

An acknowledgement belongs to an inquiry when it answers the inquiry's post (a public reply) or
goes to its customer (a DM); each inquiry has its own post id and customer. The suite's rules
send exactly one message per inquiry, so:

- lost: the intake took the post, and no acknowledgement reached the platform;
- duplicated: more than one acknowledgement reached it for the same inquiry.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.reliability.traffic import Planned

Posts = Callable[[], Awaitable[list[dict[str, Any]]]]


def fake_posts(fake_url: str) -> Posts:
    """What the fake platform accepted, oldest first."""

    async def read() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(f"{fake_url}/_fake/posts")
            answer.raise_for_status()
            found: list[dict[str, Any]] = answer.json()
            return found

    return read


def outbox_posts(path: Path) -> Posts:
    """What the sandbox adapter wrote, one entry per line."""

    async def read() -> list[dict[str, Any]]:
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    return read


def acknowledgements(posts: list[dict[str, Any]], planned: list[Planned]) -> Counter[str]:
    """Posts per inquiry (by its post id); posts that are no inquiry's reply are left out."""
    owner: dict[str, str] = {}
    for inquiry in planned:
        owner[inquiry.post_id] = inquiry.post_id
        owner[inquiry.customer_id] = inquiry.post_id
    counts: Counter[str] = Counter()
    for post in posts:
        if post.get("kind") in ("webhook", "chat_session"):
            continue  # notifications and escalations are no customer's acknowledgement
        for where in ("in_reply_to", "recipient", "conversation_id"):
            found = owner.get(str(post.get(where)))
            if found is not None:
                counts[found] += 1
                break
    return counts


def escalations(posts: list[dict[str, Any]]) -> int:
    """Notifications on the fake: careflow escalates a message it gave up delivering."""
    return sum(1 for post in posts if post.get("kind") == "webhook")


async def settle(
    read: Posts,
    planned: list[Planned],
    accepted: set[str],
    timeout: float,
    quiet: float,
) -> Counter[str]:
    """Wait until every accepted inquiry has an acknowledgement (or ``timeout``), then until the
    platform has seen nothing new for ``quiet`` seconds, so a late double is counted too."""
    deadline = time.monotonic() + timeout
    while True:
        counts = acknowledgements(await read(), planned)
        if all(counts[post] for post in accepted) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    seen, since = len(await read()), time.monotonic()
    while time.monotonic() - since < quiet:
        await asyncio.sleep(0.5)
        now = len(await read())
        if now != seen:
            seen, since = now, time.monotonic()
    return acknowledgements(await read(), planned)


@dataclass
class Result:
    """One scenario's figures and anything else it found wrong."""

    name: str
    tried: int = 0
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # failures beyond lost and duplicated
    notes: list[str] = field(default_factory=list)  # what happened, for the reader

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not self.problems

    def count(self, counts: Counter[str], accepted: set[str]) -> None:
        self.accepted = len(accepted)
        self.lost = sum(1 for post in accepted if counts[post] == 0)
        self.duplicated = sum(1 for post in counts if counts[post] > 1)
        strays = sum(1 for post in counts if post not in accepted)
        if strays:
            self.problems.append(f"{strays} inquiries the intake refused were acknowledged")

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAIL"
        return (
            f"{self.name:<24}tried {self.tried:>4}  accepted {self.accepted:>4}  "
            f"lost {self.lost:>3}  duplicated {self.duplicated:>3}  ({self.seconds:.0f}s)  {verdict}"
        )


def table(results: list[Result]) -> str:
    """The final table: one row per scenario, then what went wrong and what was noted."""
    header = f"{'scenario':<24}{'tried':>6}{'accepted':>10}{'lost':>6}{'duplicated':>12}{'seconds':>9}  result"
    rows = [header, "-" * len(header)]
    for result in results:
        rows.append(
            f"{result.name:<24}{result.tried:>6}{result.accepted:>10}{result.lost:>6}"
            f"{result.duplicated:>12}{result.seconds:>9.0f}  {'ok' if result.ok else 'FAIL'}"
        )
    for result in results:
        rows += [f"  {result.name}: {problem}" for problem in result.problems]
        rows += [f"  {result.name}: ({note})" for note in result.notes]
    return "\n".join(rows)
