"""Customers' posts, delivered to the intake as the platforms deliver them: signed webhooks
(``careflow.devtools.fake_webhooks``), redelivered on any answer but a 2xx until a deadline, as
X and Meta retry a webhook the receiver did not take.

Every post has its own post id and its own customer, across five doors (an X mention, an X DM,
a Facebook comment, an Instagram comment, a Messenger message), so each reply careflow makes
can be told apart: a public reply names the post it answers, a private one its customer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from careflow.devtools.fake_webhooks import (
    Customer,
    PlatformEvent,
    Secrets,
    facebook_comment,
    instagram_comment,
    meta_message,
    send,
    x_direct_message,
    x_mention,
)

DOORS = ("x-mention", "x-dm", "facebook-comment", "instagram-comment", "messenger")
_SERIES = itertools.count(1)


@dataclass(frozen=True)
class Planned:
    """One customer post: the event, and the ids its acknowledgement will carry."""

    door: str
    post_id: str
    customer_id: str
    event: PlatformEvent

    @property
    def private(self) -> bool:
        return self.door in ("x-dm", "messenger")


def plan(
    count: int, doors: tuple[str, ...] = DOORS, text: str = "my order is late"
) -> list[Planned]:
    """``count`` posts round-robin over ``doors``, ids unique within this run of the suite."""
    series = next(_SERIES)
    now = datetime.now(UTC)
    planned = []
    for n in range(count):
        door = doors[n % len(doors)]
        post_id = str(1_870_000_000_000_000_000 + series * 1_000_000 + n)
        customer = Customer(
            id=str(7_000_000_000 + series * 100_000 + n),
            handle=f"cust{series}x{n}",
            name=f"Customer {series}-{n}",
            followers=10,
        )
        words = f"@acme {text} (#{n})"
        event = _event(door, post_id, customer, words, now)
        planned.append(Planned(door, post_id, customer.id, event))
    return planned


def _event(door: str, post_id: str, customer: Customer, words: str, at: datetime) -> PlatformEvent:
    if door == "x-mention":
        return x_mention(post_id, customer, words, at)
    if door == "x-dm":
        return x_direct_message(post_id, customer, words, at)
    if door == "facebook-comment":
        return facebook_comment(post_id, customer, words, at)
    if door == "instagram-comment":
        return instagram_comment(post_id, customer, words, at)
    if door == "messenger":
        return meta_message(f"m_{post_id}", customer, words, at)
    raise ValueError(f"no such door: {door}")


@dataclass
class Intake:
    """What the intake made of a burst: which posts it took, and how often it said no."""

    accepted: set[str] = field(default_factory=set)  # post ids taken (started or continued)
    refused: set[str] = field(default_factory=set)  # never taken before the deadline
    attempts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # status (0: no answer) → count

    def note(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _taken(answer: httpx.Response) -> bool:
    """A 2xx whose body says the post reached its inquiry (new, continued, or already there)."""
    if not answer.is_success:
        return False
    body = answer.json()
    return bool(body.get("started") or body.get("continued") or body.get("duplicates"))


async def deliver(
    api_url: str,
    posts: list[Planned],
    secrets: Secrets,
    intake: Intake,
    concurrency: int = 20,
    give_up_after: float = 120.0,
) -> Intake:
    """Deliver every post, at most ``concurrency`` at a time, each retried (1 s apart) until the
    intake takes it or ``give_up_after`` seconds pass."""
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + give_up_after

    async def one(http: httpx.AsyncClient, post: Planned) -> None:
        async with gate:
            while True:
                intake.attempts += 1
                try:
                    answer = await send(http, api_url, post.event, secrets)
                    intake.note(answer.status_code)
                    if _taken(answer):
                        intake.accepted.add(post.post_id)
                        return
                except httpx.HTTPError:
                    intake.note(0)
                if time.monotonic() > deadline:
                    intake.refused.add(post.post_id)
                    return
                await asyncio.sleep(1.0)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(*(one(http, post) for post in posts))
    return intake
