"""A surge: 1,000 ordinary posts with 10 high-reach ones among them, on one and two workers.

Why: a burst of posts (a delivery outage, a viral complaint) queues far more workflow tasks than
a worker carries, and while the queue drains every customer waits for the acknowledgement. The
intake starts urgent and high-reach inquiries at a higher Temporal task priority
(``careflow.temporal.intake.priority_key``), so they should be acknowledged within their internal
target however long the ordinary ones wait. This script shows whether they are, and how many
inquiries a worker process acknowledges per second, against a hand-written workflow doing the
same (``bench/bare_surge.py``) in the same run: machines are noisy, so read the ratios.

It starts a Temporal dev server on free ports, then for each phase (careflow and bare, with one
and with two worker processes, ``bench/surge_worker.py``) a fresh task queue, its worker
processes, a short warm-up, and the burst, sent through careflow's own intake (firehose rules,
signal-with-start with the priority) as fast as it takes them. The pack (below) acknowledges every
post at once on ``received`` (the "respond fast" practice), so an acknowledgement's latency is
how long the post waited for the workers: from the post to the reply's line in the sandbox
outbox. Ordinary posts have a 10 s internal target and 20 s published window, high-reach ones
(10,000+ followers: urgent) 5 s and 10 s, as in ``rules/demo.yaml``.

Per phase it prints acknowledgement latency p50/p95/max for ordinary and high-reach posts, how
many high-reach ones met their internal target, and the acknowledgement rate (inquiries / s from
the first post to the last acknowledgement). Then what one inquiry costs, read from sampled
histories: workflow tasks, activities, events and history bytes. Every process it starts
(the server, the workers) is stopped on the way out.

Run: ``.venv/bin/python bench/surge_bench.py [--quick] [--ordinary N] [--high-reach N] [--phases careflow-1,bare-1,careflow-2,bare-2]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from bench.bare_surge import BareSurgeInput, BareSurgeWorkflow
from bench.running import leave, run_in_scratch_home
from bench.workflow_bench import (
    Counts,
    count_history,
    mean_counts,
    start_dev_server,
)
from careflow.engine.post import Author, Inquiry
from careflow.engine.ruleset import Ruleset, ruleset_from_text
from careflow.temporal.customers import CustomerIds
from careflow.temporal.health import check
from careflow.temporal.intake import first_message, intake, priority_key, task_priority

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "inquiries" / "question.json"
WORKER = Path(__file__).resolve().parent / "surge_worker.py"
CAREFLOW, BARE = "careflow", "bare"
TARGETS = {"ordinary": 10.0, "high-reach": 5.0}  # internal acknowledgement targets, seconds
IN_FLIGHT = 64  # posts the bench's intake sends at once
WARM_UP = 4
ACK_TIMEOUT = 900.0
HISTORY_SAMPLE = 20

PACK = """\
version: 1
name: surge
windows:
  standard:
    calendar: always
    acknowledge: {internal: 10s, published: 20s}
    resolve: {internal: 4h, published: 24h}
  urgent:
    calendar: always
    acknowledge: {internal: 5s, published: 10s}
    resolve: {internal: 2h, published: 8h}
defaults: {priority: normal, queue: general, windows: standard, privatize: never}
templates:
  ack: >-
    Hi {{ author.name }}, thanks for reaching out and sorry for the trouble. We're looking into
    it now and will get back to you within {{ window.acknowledge.published }}.
  follow_up: "Is everything sorted?"
rules:
  - name: high-reach
    on: received
    when: {author.followers: {gte: 10000}}
    do: [{set: {priority: urgent, windows: urgent}}, {tag: pr-risk}]
  - name: acknowledge-at-once
    on: received
    do: [{reply: {template: ack}}]
"""

# Any key: the bench starts and looks up its own inquiries only.
CUSTOMERS = CustomerIds((b"careflow-bench-customer-key-any-32-chars",))


# --------------------------------------------------------------------------- posts


def burst(base: Inquiry, ordinary: int, high_reach: int, tag: str) -> list[Inquiry]:
    """``ordinary`` posts with ``high_reach`` ones spread evenly among them."""
    famous = base.author.model_copy(update={"handle": "techreviewdan", "followers": 184_000})
    at = {(i + 1) * ordinary // (high_reach + 1) for i in range(high_reach)}
    posts: list[Inquiry] = []
    for index in range(ordinary):
        if index in at:
            posts.append(_post(base, f"{tag}-h{index}", famous))
        posts.append(_post(base, f"{tag}-{index}", base.author))
    return posts


def _post(base: Inquiry, tag: str, author: Author) -> Inquiry:
    return base.model_copy(
        update={"id": f"p-{tag}", "conversation_id": f"c-{tag}", "author": author}
    )


def is_high_reach(inquiry: Inquiry) -> bool:
    return (inquiry.author.followers or 0) >= 10_000


# --------------------------------------------------------------------------- worker processes


@contextlib.contextmanager
def workers(variant: str, count: int, address: str, queue: str, home: Path) -> Iterator[None]:
    """``count`` worker processes; each is stopped (SIGTERM, then SIGKILL) on the way out."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (home / "workers.log").open("ab") as log:
            for _ in range(count):
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(WORKER),
                            variant,
                            address,
                            queue,
                            str(home),
                            str(home / "pack.yaml"),
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_for_pollers(client: Client, queue: str, count: int) -> None:
    """Until ``count`` processes poll both task types (each process polls as one identity)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = await check(client, queue, acknowledgements=False)
        if health.queues and all(q.pollers >= count for q in health.queues):
            return
        await asyncio.sleep(0.25)
    raise SystemExit(f"the worker processes did not poll {queue} within 60 s (see workers.log)")


# --------------------------------------------------------------------------- one phase


@dataclass
class Phase:
    variant: str
    processes: int
    posted: dict[str, tuple[datetime, bool]]  # conversation -> (posted at, high reach)
    intake_seconds: float
    acked: dict[str, datetime] = field(default_factory=dict)
    workflow_ids: list[str] = field(default_factory=list)

    def latencies(self, high_reach: bool) -> list[float]:
        return sorted(
            (self.acked[c] - at).total_seconds()
            for c, (at, high) in self.posted.items()
            if high == high_reach and c in self.acked
        )

    @property
    def rate(self) -> float:
        first = min(at for at, _ in self.posted.values())
        last = max(self.acked.values())
        return len(self.acked) / (last - first).total_seconds()


def acknowledgements(outbox: Path) -> dict[str, datetime]:
    """The first reply per conversation in the sandbox outbox, and when it went out."""
    acked: dict[str, datetime] = {}
    if not outbox.exists():
        return acked
    for line in outbox.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "reply" and entry["conversation_id"] not in acked:
            acked[entry["conversation_id"]] = datetime.fromisoformat(entry["at"])
    return acked


async def send(
    variant: str, client: Client, queue: str, ruleset: Ruleset, posts: Sequence[Inquiry]
) -> tuple[dict[str, tuple[datetime, bool]], list[str]]:
    """Post each through the intake (careflow) or its bare equivalent, ``IN_FLIGHT`` at once."""
    limit = asyncio.Semaphore(IN_FLIGHT)
    posted: dict[str, tuple[datetime, bool]] = {}
    ids: list[str] = []

    async def one(post: Inquiry) -> None:
        async with limit:
            post = post.model_copy(update={"created_at": datetime.now(UTC)})
            posted[post.conversation_id] = (post.created_at, is_high_reach(post))
            if variant == CAREFLOW:
                result = await intake(client, queue, post, ruleset, customers=CUSTOMERS)
                assert result.workflow_id is not None and not result.dropped, result
                ids.append(result.workflow_id)
                return
            # The bare workflow gets what the intake gives careflow's: signal-with-start, the
            # memo-free start and the same priority.
            key = priority_key("urgent" if is_high_reach(post) else "normal", 0)
            handle = await client.start_workflow(
                BareSurgeWorkflow.run,
                BareSurgeInput(inquiry=post),
                id=f"bare-{post.channel}-{post.conversation_id}",
                task_queue=queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal="customer_message",
                start_signal_args=[first_message(post)],
                priority=task_priority(key),
            )
            ids.append(handle.id)

    await asyncio.gather(*(one(p) for p in posts))
    return posted, ids


async def wait_for_acks(outbox: Path, wanted: set[str]) -> dict[str, datetime]:
    deadline = time.monotonic() + ACK_TIMEOUT
    while True:
        acked = acknowledgements(outbox)
        if wanted <= acked.keys():
            return {c: acked[c] for c in wanted}
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(wanted & acked.keys())} of {len(wanted)} acknowledged")
        await asyncio.sleep(0.25)


async def phase(
    variant: str,
    processes: int,
    client: Client,
    address: str,
    home: Path,
    ruleset: Ruleset,
    base: Inquiry,
    args: argparse.Namespace,
) -> Phase:
    tag = uuid.uuid4().hex[:6]
    queue = f"surge-{variant}-{processes}-{tag}"
    folder = home / queue
    folder.mkdir()
    (folder / "pack.yaml").write_text(PACK, encoding="utf-8")
    outbox = folder / "outbox.jsonl"
    with workers(variant, processes, address, queue, folder):
        await wait_for_pollers(client, queue, processes)
        warm = burst(base, WARM_UP, 0, f"{tag}-warm")
        posted, _ = await send(variant, client, queue, ruleset, warm)
        await wait_for_acks(outbox, set(posted))
        posts = burst(base, args.ordinary, args.high_reach, tag)
        began = time.perf_counter()
        posted, ids = await send(variant, client, queue, ruleset, posts)
        result = Phase(variant, processes, posted, time.perf_counter() - began, workflow_ids=ids)
        result.acked = await wait_for_acks(outbox, set(posted))
    return result


# --------------------------------------------------------------------------- report


def quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"{statistics.median(values):6.1f} {p95:6.1f} {values[-1]:6.1f}"


def report(phases: list[Phase]) -> None:
    print(
        f"\n{'phase':<12}{'posts':>6}{'intake s':>9}{'ack/s':>8}"
        f"   {'ordinary p50/p95/max s':<24}{'high-reach p50/p95/max s':<26}{'high-reach in target':>21}"
    )
    for p in phases:
        high = p.latencies(True)
        met = sum(latency <= TARGETS["high-reach"] for latency in high)
        print(
            f"{p.variant + '-' + str(p.processes):<12}{len(p.posted):>6}{p.intake_seconds:>9.1f}"
            f"{p.rate:>8.1f}   {quantiles(p.latencies(False)):<24}{quantiles(high):<26}"
            f"{f'{met}/{len(high)}':>21}"
        )
    by = {(p.variant, p.processes): p for p in phases}
    for processes in (1, 2):
        mine, bare = by.get((CAREFLOW, processes)), by.get((BARE, processes))
        if mine and bare:
            print(
                f"{processes} worker process(es): careflow {mine.rate / processes:.1f} inquiries/s "
                f"per process, {mine.rate / bare.rate:.2f} of the bare workflow's rate"
            )
    one, two = by.get((CAREFLOW, 1)), by.get((CAREFLOW, 2))
    if one and two:
        print(f"two careflow worker processes / one: {two.rate / one.rate:.2f}")
    for p in phases:
        high = p.latencies(True)
        if p.variant == CAREFLOW and high:
            met = all(latency <= TARGETS["high-reach"] for latency in high)
            print(
                f"{p.variant}-{p.processes}: high-reach acknowledged within their "
                f"{TARGETS['high-reach']:.0f} s internal target: {'yes' if met else 'NO'}; "
                f"ordinary past their {TARGETS['ordinary']:.0f} s target: "
                f"{sum(x > TARGETS['ordinary'] for x in p.latencies(False))}"
            )


async def costs(client: Client, phases: list[Phase]) -> None:
    """Per inquiry, from a sample of each variant's histories."""
    print("\nper inquiry, from sampled histories (mean):")
    print(
        f"{'variant':<10}{'events':>8}{'wf tasks':>10}{'activities':>12}{'upserts':>9}{'hist KB':>9}"
    )
    for variant in (CAREFLOW, BARE):
        ids = [i for p in phases if p.variant == variant for i in p.workflow_ids][:HISTORY_SAMPLE]
        if not ids:
            continue
        counted: list[Counts] = []
        for workflow_id in ids:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            counted.append(count_history(history)[0])
        c = mean_counts(counted)
        print(
            f"{variant:<10}{c.events:>8.1f}{c.workflow_tasks:>10.1f}{c.activities:>12.1f}"
            f"{c.upserts:>9.1f}{c.kilobytes:>9.1f}"
        )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ordinary", type=int, default=1000, help="ordinary posts in the burst")
    parser.add_argument("--high-reach", type=int, default=10, help="high-reach posts among them")
    parser.add_argument(
        "--phases",
        default="careflow-1,bare-1,careflow-2,bare-2",
        help="variant-processes, in order (variants: careflow, bare)",
    )
    parser.add_argument("--quick", action="store_true", help="200 ordinary posts (smoke)")
    args = parser.parse_args(argv)
    if args.quick:
        args.ordinary = 200
    args.phases = [
        (name, int(count)) for name, count in (p.rsplit("-", 1) for p in args.phases.split(","))
    ]
    if any(name not in (CAREFLOW, BARE) or count < 1 for name, count in args.phases):
        parser.error("--phases: careflow-N or bare-N, N at least 1")
    return args


async def bench(args: argparse.Namespace, home: Path) -> int:
    began = time.perf_counter()
    ruleset = ruleset_from_text(PACK, "surge.yaml")
    base = Inquiry.model_validate_json(EXAMPLE.read_text(encoding="utf-8"))
    env = await start_dev_server(home)
    async with env:
        client = env.client
        address = client.service_client.config.target_host
        print(
            f"dev server {address} up in {time.perf_counter() - began:.1f} s; burst of "
            f"{args.ordinary} ordinary posts with {args.high_reach} high-reach ones, "
            f"{IN_FLIGHT} in flight; {os.cpu_count()} CPUs"
        )
        phases: list[Phase] = []
        for variant, processes in args.phases:
            result = await phase(variant, processes, client, address, home, ruleset, base, args)
            phases.append(result)
            print(
                f"{variant}-{processes}: {result.rate:.1f} acknowledgements/s "
                f"({time.perf_counter() - began:.0f} s)"
            )
        report(phases)
        await costs(client, phases)
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_in_scratch_home(bench, parse_args(argv), "surge")


if __name__ == "__main__":
    leave(main())
