"""Benchmark the webhook intake over HTTP against calling ``careflow.temporal.intake.intake`` directly.

Why: every post a platform delivers goes through the intake (signature, normalization, the
firehose filter, signal-with-start), and a platform that gets no answer in time retries and
then gives up, so what the HTTP door costs on top of the Temporal call decides how many
deliveries one ``careflow api`` carries. This script starts a local dev server once and, in
interleaved rounds, sends the same N inquiries two ways:

- ``direct``: ``careflow.temporal.intake.intake(client, settings.temporal.task_queue, inquiry, ruleset)``, the firehose
  filter and signal-with-start, from this process's event loop (the baseline);
- ``http``: the same inquiries as X Account Activity deliveries (``tweet_create_events``, one
  mention each, built by ``careflow.devtools.fake_webhooks.x_mention`` and signed as X signs), POSTed by
  one ``httpx.AsyncClient`` to the real intake app (``careflow.http.app.create_app``) served by
  uvicorn in a thread of this process (``careflow.http.serving.ThreadedServer``, its own event loop
  and its own Temporal client, as in ``careflow up``).

Each way runs two mixes: ``clean`` (every post starts an inquiry) and ``spam`` (every other post
says "giveaway", which the default pack's firehose drops: the intake answers without Temporal).
Both ways run at most ``--concurrency`` deliveries in flight. Rates, p50/p90 latency per
delivery and the ratio http/direct are printed, never asserted: a shared machine is too noisy
to fail on. CPU milliseconds per delivery of this process (client, intake app and uvicorn) and
of the dev server are printed too: on a shared machine they are steadier than the rates.
The HTTP client runs in this process too (one thread, the intake another), so the http way's
figures carry the client's cost and the two threads' contention for the GIL: read them as what
the door costs at most, not what a platform sees.

No worker runs: signal-with-start needs only the server, which records the workflow and its
first workflow task; the task waits on the task queue. So the figures are the intake alone,
with no worker competing for the CPU, and the started workflows pile up as Running (the order
of the phases reverses every other round, so that growth weighs on both ways alike).

Correctness before timing: every generated inquiry is checked against the firehose (dropped
exactly when it is spam), an untimed warm-up phase of each way is checked like a timed one,
and after every phase each answer is checked (started the conversation's workflow, or dropped
as spam) and the workflows visible under the phase's own id prefix are counted: exactly the
posts not dropped.

Run: ``.venv/bin/python bench/intake_bench.py [--quick] [--deliveries N] [--rounds N] [--concurrency N]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.client import Client

from bench.running import leave, run_in_scratch_home
from bench.workflow_bench import DEV_SERVER, server_cpu, start_dev_server
from careflow.channels import x
from careflow.devtools.fake_webhooks import Customer, PlatformEvent, Secrets, signed, x_mention
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Ruleset, load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import Settings, TemporalSettings, WebhookSecrets
from careflow.temporal.connection import Connection, connect
from careflow.temporal.customers import CustomerIds
from careflow.temporal.intake import firehose, intake, workflow_id

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACK = ROOT / "rules" / "default.yaml"
DIRECT, HTTP = "direct", "http"
CLEAN, SPAM = "clean", "spam"
SPAM_REASON = "spam"
VISIBILITY_WAIT = 30.0  # seconds for the visibility store to show a phase's workflows
WARM_UP = 20  # deliveries per way and mix before the timed rounds (checked, not timed)
FIRST_POST_ID = 1_890_000_000_000_000_000

# What customers write (no spam words, no "RT @"): varied, short, as mentions are.
CUSTOMER_TEXTS = (
    "@acme where is my order? still waiting after 9 days",
    "@acme my parcel says delivered but nothing here, can someone help",
    "@acme I'd like to return the blue jacket, it's one size too small",
    "@acme the blender stopped working after two weeks, is that under warranty?",
    "@acme I was charged twice for the same order, please sort this out",
    "@acme can't log in to my account since the update, password reset does nothing",
    "@acme how do I redeem a gift card online?",
    "@acme the app keeps crashing at checkout, tried three times now",
    "@acme thanks for the quick delivery, love the new colours",
    "@acme is the winter boot back in stock in size 42 anytime soon?",
)
# Turned away by the default pack's drop-giveaway-spam rule.
SPAM_TEXTS = (
    "GIVEAWAY! follow @prizes4u and tag @acme to win a phone",
    "@acme giveaway time, retweet and follow back for a chance to win",
    "huge crypto giveaway, mention @acme and dm for promo codes",
)

# Any key: the bench starts and looks up its own inquiries only.
CUSTOMERS = CustomerIds((b"careflow-bench-customer-key-any-32-chars",))


# --------------------------------------------------------------------------- deliveries


@dataclass(frozen=True)
class Delivery:
    """One customer post: the X delivery carrying it, and the inquiry intake makes of it."""

    event: PlatformEvent
    inquiry: Inquiry
    spam: bool


def deliveries(tag: str, count: int, mix: str, settings: Settings, first_id: int) -> list[Delivery]:
    """``count`` mentions of the brand, each in its own conversation ``<tag>-<i>`` (so every
    phase's workflow ids share a prefix no other phase has); every other one spam in the
    spam mix. The inquiry is what the X normalizer makes of the delivery, so both ways take in
    the very same inquiries."""
    now = datetime.now(UTC).replace(microsecond=0)  # X's time format has whole seconds
    made: list[Delivery] = []
    for i in range(count):
        spam = mix == SPAM and i % 2 == 1
        texts = SPAM_TEXTS if spam else CUSTOMER_TEXTS
        customer = Customer(id=str(70_000_000 + i), handle=f"customer{i}", followers=10 + i % 500)
        event = x_mention(
            str(first_id + i), customer, texts[i % len(texts)], now, in_reply_to=f"{tag}-{i}"
        )
        found = x.account_activity(event.body, settings.brand)
        if len(found.inquiries) != 1 or found.echoes or found.ignored:
            raise SystemExit(f"bench bug: the X normalizer made {found} of one mention")
        made.append(Delivery(event, found.inquiries[0], spam))
    return made


def check_firehose(batch: Sequence[Delivery], ruleset: Ruleset) -> None:
    """The pack drops exactly the spam: otherwise the mixes would not be what they say."""
    for delivery in batch:
        result = firehose(delivery.inquiry, ruleset)
        wrong_reason = result is not None and result.reason != SPAM_REASON
        if (result is not None) != delivery.spam or wrong_reason:
            raise SystemExit(
                f"the default pack {'drops' if result else 'keeps'} {delivery.inquiry.text!r}: "
                "the bench's texts no longer fit rules/default.yaml"
            )


# --------------------------------------------------------------------------- the two ways

# Sends one delivery; raises unless the answer is what it should be.
Send = Callable[[Delivery], Awaitable[None]]


def direct_way(client: Client, settings: Settings, ruleset: Ruleset) -> Send:
    async def send(delivery: Delivery) -> None:
        result = await intake(
            client, settings.temporal.task_queue, delivery.inquiry, ruleset, customers=CUSTOMERS
        )
        expected = None if delivery.spam else workflow_id(delivery.inquiry)
        reason = SPAM_REASON if delivery.spam else None
        if (result.workflow_id, result.dropped, result.reason) != (expected, delivery.spam, reason):
            raise RuntimeError(f"{delivery.inquiry.id}: intake answered {result}")

    return send


def http_way(http: httpx.AsyncClient, url: str, keys: Secrets) -> Send:
    async def send(delivery: Delivery) -> None:
        raw, headers = signed(delivery.event, keys)
        headers["Content-Type"] = "application/json"
        answer = await http.post(url + delivery.event.path, content=raw, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"{delivery.inquiry.id}: HTTP {answer.status_code} {answer.text}")
        body: dict[str, Any] = answer.json()
        if delivery.spam:
            ok = not body["started"] and [d["reason"] for d in body["dropped"]] == [SPAM_REASON]
        else:
            ok = body["started"] == [workflow_id(delivery.inquiry)] and not body["dropped"]
        if not ok or body["received"] != 1:
            raise RuntimeError(f"{delivery.inquiry.id}: the intake answered {body}")

    return send


# --------------------------------------------------------------------------- phases


@dataclass
class Phase:
    """One timed run of N deliveries of one way and mix."""

    round: int
    way: str
    mix: str
    deliveries: int
    started: int  # workflows it must have started (the posts not dropped)
    wall: float
    latencies: list[float]
    bench_cpu: float
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.deliveries / self.wall


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_phase(
    send: Send, batch: Sequence[Delivery], concurrency: int
) -> tuple[float, list[float], float, float | None]:
    """Send every delivery, at most ``concurrency`` at a time: first send to last answer.
    Wall seconds, latency of each delivery (from its send, not its wait for a slot), and CPU
    seconds of this process and of the dev server."""
    limit = asyncio.Semaphore(concurrency)

    async def one(delivery: Delivery) -> float:
        async with limit:
            start = time.perf_counter()
            await send(delivery)
            return time.perf_counter() - start

    cpu, server = time.process_time(), server_cpu()
    start = time.perf_counter()
    latencies = list(await asyncio.gather(*(one(d) for d in batch)))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    server_after = server_cpu()
    used = None if server is None or server_after is None else server_after - server
    return wall, latencies, cpu, used


async def check_visible(client: Client, tag: str, expected: int) -> None:
    """The workflows under the phase's id prefix are exactly the posts not dropped."""
    query = f"WorkflowId STARTS_WITH '{workflow_id_prefix(tag)}'"
    deadline = time.monotonic() + VISIBILITY_WAIT
    while True:
        count = (await client.count_workflows(query)).count
        if count > expected:
            raise RuntimeError(f"{query}: {count} workflows, expected {expected}")
        if count == expected:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{query}: {count} workflows after {VISIBILITY_WAIT:.0f} s, expected {expected}"
            )
        await asyncio.sleep(0.2)
    ids = {execution.id async for execution in client.list_workflows(query)}
    if len(ids) != expected:
        raise RuntimeError(f"{query}: listed {len(ids)} distinct ids, expected {expected}")


def workflow_id_prefix(tag: str) -> str:
    return f"inquiry-x-{tag}-"


# --------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def phase_row(phase: Phase) -> str:
    server = "n/a" if phase.server_cpu is None else _ms(phase.server_cpu / phase.deliveries)
    return (
        f"{phase.round:<7}{phase.mix:<7}{phase.way:<8}{phase.deliveries:>11}{phase.started:>9}"
        f"{phase.wall:>8.2f}{phase.rate:>14.1f}{_ms(percentile(phase.latencies, 0.5)):>8}"
        f"{_ms(percentile(phase.latencies, 0.9)):>8}"
        f"{_ms(phase.bench_cpu / phase.deliveries):>13}{server:>14}"
    )


def summary(phases: Sequence[Phase], mix: str, way: str) -> tuple[float, float, float]:
    """All rounds of one way and mix: deliveries / summed wall time, p50 and p90 latency."""
    mine = [p for p in phases if p.mix == mix and p.way == way]
    latencies = [s for p in mine for s in p.latencies]
    rate = sum(p.deliveries for p in mine) / sum(p.wall for p in mine)
    return rate, percentile(latencies, 0.5), percentile(latencies, 0.9)


def _phase(phases: Sequence[Phase], round: int, mix: str, way: str) -> Phase:
    return next(p for p in phases if p.round == round and p.mix == mix and p.way == way)


def report(phases: Sequence[Phase]) -> None:
    print(
        f"\n{'round':<7}{'mix':<7}{'way':<8}{'deliveries':>11}{'started':>9}{'wall s':>8}"
        f"{'deliveries/s':>14}{'p50 ms':>8}{'p90 ms':>8}{'bench CPU ms':>13}{'server CPU ms':>14}"
    )
    for phase in phases:
        print(phase_row(phase))
    print("(CPU ms per delivery; bench CPU is this process: client, intake app and uvicorn)")

    rounds = sorted({p.round for p in phases})
    print(f"\n{'mix':<7}{'way':<8}{'deliveries/s':>14}{'p50 ms':>8}{'p90 ms':>8}   (all rounds)")
    for mix in (CLEAN, SPAM):
        for way in (DIRECT, HTTP):
            rate, p50, p90 = summary(phases, mix, way)
            print(f"{mix:<7}{way:<8}{rate:>14.1f}{_ms(p50):>8}{_ms(p90):>8}")
    print()
    for mix in (CLEAN, SPAM):
        direct, http = summary(phases, mix, DIRECT), summary(phases, mix, HTTP)
        per_round = ", ".join(
            f"{_phase(phases, r, mix, HTTP).rate / _phase(phases, r, mix, DIRECT).rate:.2f}"
            for r in rounds
        )
        print(
            f"{mix}: ratio http/direct deliveries/s {http[0] / direct[0]:.2f} (per round: "
            f"{per_round}); p50 latency http/direct {http[1] / direct[1]:.2f}"
        )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; --quick is a smoke run, the defaults are the real benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--deliveries", type=int, default=2000, help="deliveries per way and mix per round"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds (order reverses each round)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight at most")
    parser.add_argument("--quick", action="store_true", help="500 deliveries per round (smoke)")
    args = parser.parse_args(argv)
    if args.quick:
        args.deliveries = 500
    if min(args.deliveries, args.rounds, args.concurrency) < 1:
        parser.error("--deliveries, --rounds and --concurrency must be at least 1")
    return args


async def bench(args: argparse.Namespace, home: Path) -> int:
    began = time.perf_counter()
    env = await start_dev_server(home)
    print(f"dev server {DEV_SERVER} up in {time.perf_counter() - began:.1f} s")
    keys = Secrets(x_consumer_secret=secrets.token_hex(16), meta_app_secret=None)
    settings = Settings(
        rules=str(DEFAULT_PACK),
        home=home,
        temporal=TemporalSettings(
            address=env.client.service_client.config.target_host,
            task_queue=f"bench-intake-{uuid.uuid4().hex[:6]}",
        ),
        webhooks=WebhookSecrets(x_consumer_secret=keys.x_consumer_secret),
    )
    ruleset = load_ruleset(DEFAULT_PACK)
    print(
        f"pack {DEFAULT_PACK.relative_to(ROOT)} (sha256 {ruleset.digest[:12]}); no worker: "
        f"workflows stay Running on task queue {settings.temporal.task_queue}"
    )

    async def client_factory() -> Client:  # called in the intake's own thread and loop
        return await connect(Connection.of(settings))

    server = ThreadedServer(
        create_app(settings, client_factory, ruleset), free_port(), "bench-intake", "critical"
    )
    run = uuid.uuid4().hex[:6]
    post_ids = iter(range(FIRST_POST_ID, FIRST_POST_ID + 10**12, 10**6))
    async with (
        contextlib.AsyncExitStack() as stack
    ):  # closes the intake, then httpx, then the dev server
        await stack.enter_async_context(env)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        await asyncio.to_thread(server.start)
        stack.push_async_callback(asyncio.to_thread, server.stop)
        client = await connect(Connection.of(settings))
        ways = {
            DIRECT: direct_way(client, settings, ruleset),
            HTTP: http_way(http, server.url, keys),
        }

        async def phase(round: int, way: str, mix: str, count: int) -> Phase:
            tag = f"{run}-r{round}-{way}-{mix}"
            batch = deliveries(tag, count, mix, settings, next(post_ids))
            check_firehose(batch, ruleset)
            wall, latencies, cpu, used = await run_phase(ways[way], batch, args.concurrency)
            started = sum(not d.spam for d in batch)
            await check_visible(client, tag, started)
            return Phase(round, way, mix, count, started, wall, latencies, cpu, used)

        # Warm-up (untimed): connects both clients, and checks both ways end to end.
        for way in ways:
            for mix in (CLEAN, SPAM):
                await phase(0, way, mix, WARM_UP)
        print(
            f"warm-up: {WARM_UP} deliveries per way and mix, answers and visible workflows "
            "checked; intake over HTTP at " + server.url
        )
        print(
            f"\ntimed: {args.deliveries} deliveries per way and mix per round, "
            f"{args.rounds} round(s), at most {args.concurrency} in flight; the spam mix "
            "drops every other post at the firehose"
        )
        order = [(mix, way) for mix in (CLEAN, SPAM) for way in (DIRECT, HTTP)]
        phases: list[Phase] = []
        for round in range(1, args.rounds + 1):
            for mix, way in order if round % 2 else order[::-1]:
                done = await phase(round, way, mix, args.deliveries)
                phases.append(done)
                print(
                    f"round {round} {mix} {way}: {done.rate:.1f} deliveries/s, "
                    f"{done.started} workflows checked "
                    f"({time.perf_counter() - began:.0f} s)"
                )
    report(phases)
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_in_scratch_home(bench, parse_args(argv), "intake")


if __name__ == "__main__":
    leave(main())
