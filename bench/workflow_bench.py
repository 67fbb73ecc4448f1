"""Benchmark the inquiry workflow against a hand-written bare workflow on one Temporal dev server.

Why: every post careflow keeps is a durable workflow, so what the rule engine, the clocks and the
recorded state cost on top of plain Temporal decides how many inquiries a worker carries. This
script starts a local dev server once, runs N inquiries through careflow (the real worker from
``careflow.temporal.worker.build_worker``) and N through ``bench/bare_workflow.py`` (the same
conversation written by hand: same activity calls, timers, signal, updates and search-attribute
upserts), in interleaved rounds, and prints both rates and their ratio. The project's aim
(careflow at >= 0.8 of the bare workflow's rate) is printed, never asserted: a shared machine is
too noisy to fail on.

The scenario, per inquiry: the ``return`` example is posted (now), the customer writes again
(signal ``customer_message``), an agent replies (update ``reply``) and resolves it (update
``resolve``); the follow-up goes out ``--timer`` seconds later and, with no answer, the inquiry
closes ``--timer`` seconds after that. Silence, not a "thanks", ends it: the client cannot know
when the follow-up went out without polling, and a "thanks" that arrives first would skip it.
careflow runs the default pack with every windows calendar set to ``always`` and only the
follow-up durations shortened: the clocks (30 minutes and more) never fire, so every inquiry
costs the same. The dev server does not skip time, so the timers are real seconds.

What each inquiry really cost is read back from the histories (activities, timers, signals,
updates, upserts, workflow tasks, events): once for a reference inquiry run alone, and as means
over every timed inquiry. CPU seconds of this process (client and both workers) and of the dev
server are printed per inquiry too: on a shared machine they are steadier than the rates.

Run: ``.venv/bin/python bench/workflow_bench.py [--quick] [--inquiries N] [--rounds N] [--concurrency N] [--timer S] [--no-search-attributes]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.adapters.sandbox import SandboxAdapter
from bench.bare_workflow import (
    CLOSED_SILENT,
    BareActivities,
    BareInput,
    BareInquiryWorkflow,
)
from bench.running import leave, run_in_scratch_home
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import RuleFileError, ruleset_from_text
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.worker import GRACEFUL_SHUTDOWN, build_worker
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import CustomerMessage, InquiryInput, ReplyRequest, ResolveRequest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACK = ROOT / "rules" / "default.yaml"
EXAMPLE = ROOT / "examples" / "inquiries" / "return.json"
DEV_SERVER = Path(sys.executable).parent / "temporal"
CAREFLOW, BARE = "careflow", "bare"
AGENT = "dana"
CUSTOMER_TEXT = "It's the blue jacket from last week, one size too small."
REPLY_TEXT = "Sorry about that! A prepaid return label is on its way to your inbox."
RESOLUTION = "refunded"
HISTORY_FETCHES = 20  # histories fetched at once after a timed phase (not timed)

# --------------------------------------------------------------------------- the careflow pack


def write_pack(directory: Path, timer: int) -> tuple[Path, str]:
    """The default pack, round the clock, with the follow-up after/wait set to ``timer`` s.

    Text substitution (PyYAML would turn the ``on:`` keys into ``true:``); every substitution
    must apply, and the result must pass careflow's checker.
    """
    text = DEFAULT_PACK.read_text(encoding="utf-8")
    text, calendars = re.subn(r"(?m)^([ \t]+calendar:[ \t]*)[\w-]+[ \t]*$", r"\1always", text)
    for key in ("after", "wait"):
        text, count = re.subn(
            rf"(?m)^([ \t]+follow_up:[ \t]*\{{[^}}\n]*\b{key}:[ \t]*)\w+", rf"\g<1>{timer}s", text
        )
        if count != 1:
            raise SystemExit(f"{DEFAULT_PACK}: no 'flow: follow_up: {{{key}: ...}}' to shorten")
    if calendars == 0:
        raise SystemExit(f"{DEFAULT_PACK}: no 'calendar:' in its windows to set to always")
    path = directory / "bench-pack.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        ruleset = ruleset_from_text(text, str(path))
    except RuleFileError as error:
        problems = "\n".join(f"  {problem}" for problem in error.problems)
        raise SystemExit(f"the bench's pack fails `careflow rules check`:\n{problems}") from None
    follow_up = ruleset.rule_file.flow.follow_up
    assert (follow_up.after, follow_up.wait) == (f"{timer}s", f"{timer}s"), follow_up
    assert all(p.calendar == "always" for p in ruleset.rule_file.windows.values())
    return path, ruleset.digest


# --------------------------------------------------------------------------- the two variants


@dataclass
class Variant:
    """How to run one inquiry of a variant to its end; returns the workflow id."""

    name: str
    drive: Callable[[str], Awaitable[str]]


def inquiry_for(base: Inquiry, tag: str) -> Inquiry:
    """The example, posted now, with its own post and conversation ids."""
    return base.model_copy(
        update={"id": f"p-{tag}", "conversation_id": f"c-{tag}", "created_at": datetime.now(UTC)}
    )


def customer_message(tag: str) -> CustomerMessage:
    return CustomerMessage(id=f"m-{tag}", text=CUSTOMER_TEXT, at=datetime.now(UTC))


def careflow_variant(client: Client, task_queue: str, base: Inquiry, attrs: bool) -> Variant:
    async def drive(tag: str) -> str:
        handle = await client.start_workflow(
            InquiryWorkflow.run,
            InquiryInput(inquiry=inquiry_for(base, tag), search_attributes=attrs),
            id=f"bench-careflow-{tag}",
            task_queue=task_queue,
        )
        await handle.signal(InquiryWorkflow.customer_message, customer_message(tag))
        await handle.execute_update(
            InquiryWorkflow.reply, ReplyRequest(agent=AGENT, text=REPLY_TEXT)
        )
        await handle.execute_update(
            InquiryWorkflow.resolve, ResolveRequest(agent=AGENT, code=RESOLUTION)
        )
        result = await handle.result()
        if result.kind != "closed" or result.reason != CLOSED_SILENT:
            raise RuntimeError(f"{handle.id}: ended as {result.kind} ({result.reason!r})")
        return handle.id

    return Variant(CAREFLOW, drive)


def bare_variant(
    client: Client, task_queue: str, base: Inquiry, attrs: bool, timer: int
) -> Variant:
    async def drive(tag: str) -> str:
        handle = await client.start_workflow(
            BareInquiryWorkflow.run,
            BareInput(
                inquiry=inquiry_for(base, tag),
                follow_up_after=timer,
                follow_up_wait=timer,
                search_attributes=attrs,
            ),
            id=f"bench-bare-{tag}",
            task_queue=task_queue,
        )
        await handle.signal(BareInquiryWorkflow.customer_message, customer_message(tag))
        await handle.execute_update(
            BareInquiryWorkflow.reply, ReplyRequest(agent=AGENT, text=REPLY_TEXT)
        )
        await handle.execute_update(
            BareInquiryWorkflow.resolve, ResolveRequest(agent=AGENT, code=RESOLUTION)
        )
        result = await handle.result()
        if result.reason != CLOSED_SILENT:
            raise RuntimeError(f"{handle.id}: ended with {result.reason!r}")
        return handle.id

    return Variant(BARE, drive)


# --------------------------------------------------------------------------- histories


@dataclass
class Counts:
    """What one inquiry cost, read from its history."""

    events: float = 0
    workflow_tasks: float = 0  # WorkflowTaskCompleted
    failed_tasks: float = 0  # WorkflowTaskFailed / TimedOut
    activities: float = 0  # ActivityTaskScheduled
    timers: float = 0  # TimerStarted
    fired: float = 0  # TimerFired
    canceled: float = 0  # TimerCanceled
    signals: float = 0
    updates: float = 0  # WorkflowExecutionUpdateAccepted
    upserts: float = 0  # UpsertWorkflowSearchAttributes
    kilobytes: float = 0  # the history's serialized size


_COUNTED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_tasks",
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "failed_tasks",
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "failed_tasks",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_TIMER_FIRED: "fired",
    EventType.EVENT_TYPE_TIMER_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upserts",
}


def count_history(history: WorkflowHistory) -> tuple[Counts, list[str]]:
    """The counts of one history, and its activity types in order."""
    counts = Counts(events=len(history.events))
    activity_types: list[str] = []
    for event in history.events:
        name = _COUNTED.get(event.event_type)
        if name is not None:
            setattr(counts, name, getattr(counts, name) + 1)
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activity_types.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        counts.kilobytes += event.ByteSize() / 1024
    return counts, activity_types


def mean_counts(all_counts: Sequence[Counts]) -> Counts:
    mean = Counts()
    for field in fields(Counts):
        setattr(mean, field.name, statistics.fmean(getattr(c, field.name) for c in all_counts))
    return mean


async def fetch_counts(client: Client, workflow_ids: Sequence[str]) -> list[Counts]:
    limit = asyncio.Semaphore(HISTORY_FETCHES)

    async def one(workflow_id: str) -> Counts:
        async with limit:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        return count_history(history)[0]

    return list(await asyncio.gather(*(one(i) for i in workflow_ids)))


# --------------------------------------------------------------------------- CPU of the processes


def _ticks(stat: str) -> tuple[int, int]:
    """(parent pid, utime + stime) from a /proc/PID/stat line."""
    after = stat.rsplit(")", 1)[1].split()
    return int(after[1]), int(after[11]) + int(after[12])


def server_cpu() -> float | None:
    """CPU seconds used so far by this process's children (the dev server); None off Linux."""
    try:
        me, total = os.getpid(), 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    parent, ticks = _ticks((entry / "stat").read_text())
                    if parent == me:
                        total += ticks
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


def bytecode_note() -> str | None:
    """Say so when the sandbox must compile the workflow modules from source on every run.

    The workflow sandbox imports the workflow module afresh for each workflow run; without a
    ``.pyc`` (PYTHONDONTWRITEBYTECODE and no ``__pycache__``) that import compiles the source.
    """
    if not sys.dont_write_bytecode:
        return None
    costs: list[str] = []
    for workflow_class in (InquiryWorkflow, BareInquiryWorkflow):
        source = Path(sys.modules[workflow_class.__module__].__file__ or "")
        if Path(importlib.util.cache_from_source(str(source))).exists():
            continue
        text = source.read_text(encoding="utf-8")
        seconds = min(_compile_seconds(text, str(source)) for _ in range(3))
        costs.append(f"{source.relative_to(ROOT)} {1000 * seconds:.1f} ms")
    if not costs:
        return None
    return (
        "note: PYTHONDONTWRITEBYTECODE is set and there is no .pyc, so the workflow sandbox "
        f"compiles each workflow module from source on every workflow run ({', '.join(costs)})"
    )


def _compile_seconds(text: str, name: str) -> float:
    start = time.process_time()
    compile(text, name, "exec")
    return time.process_time() - start


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send fds 1 and 2 to ``path`` meanwhile (the dev server inherits them: its banner and log)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


async def start_dev_server(home: Path) -> WorkflowEnvironment:
    """The pinned dev server with careflow's search attributes, its output in ``home``."""
    with output_to(home / "server.log"):
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(DEV_SERVER),
            data_converter=pydantic_data_converter,
            search_attributes=search.ALL_KEYS,
        )


# --------------------------------------------------------------------------- timed phases


@dataclass
class Phase:
    """One timed run of N inquiries of one variant."""

    round: int
    variant: str
    inquiries: int
    wall: float
    latencies: list[float]
    bench_cpu: float
    server_cpu: float | None
    counts: list[Counts]

    @property
    def rate(self) -> float:
        return self.inquiries / self.wall


async def timed_phase(
    variant: Variant, client: Client, round: int, inquiries: int, concurrency: int
) -> Phase:
    """Run ``inquiries`` at most ``concurrency`` at a time: first start to last result."""
    limit = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:6]

    async def one(index: int) -> tuple[str, float]:
        async with limit:
            start = time.perf_counter()
            workflow_id = await variant.drive(f"{run}-{round}-{index}")
            return workflow_id, time.perf_counter() - start

    cpu, server = time.process_time(), server_cpu()
    start = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(inquiries)))
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    server_after = server_cpu()
    used = None if server is None or server_after is None else server_after - server
    counts = await fetch_counts(client, [workflow_id for workflow_id, _ in results])
    return Phase(round, variant.name, inquiries, wall, [s for _, s in results], cpu, used, counts)


# --------------------------------------------------------------------------- report

COUNT_HEADER = (
    f"{'variant':<10}{'events':>8}{'wf tasks':>10}{'failed':>8}{'activities':>12}"
    f"{'timers':>8}{'fired':>7}{'canceled':>10}{'signals':>9}{'updates':>9}{'upserts':>9}"
    f"{'hist KB':>9}"
)


def count_row(name: str, c: Counts, digits: int) -> str:
    def n(value: float, width: int) -> str:
        return f"{value:>{width}.{digits}f}"

    return (
        f"{name:<10}{n(c.events, 8)}{n(c.workflow_tasks, 10)}{n(c.failed_tasks, 8)}"
        f"{n(c.activities, 12)}{n(c.timers, 8)}{n(c.fired, 7)}{n(c.canceled, 10)}"
        f"{n(c.signals, 9)}{n(c.updates, 9)}{n(c.upserts, 9)}{c.kilobytes:>9.1f}"
    )


def phase_row(phase: Phase) -> str:
    latencies = sorted(phase.latencies)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    server = "n/a" if phase.server_cpu is None else f"{phase.server_cpu:.1f}"
    return (
        f"{phase.round:<7}{phase.variant:<10}{phase.inquiries:>10}{phase.wall:>9.2f}"
        f"{phase.rate:>13.1f}{statistics.fmean(latencies):>10.2f}{p95:>8.2f}"
        f"{phase.bench_cpu:>13.1f}{server:>14}"
    )


def report(phases: list[Phase], timer: int) -> None:
    print(
        f"\n{'round':<7}{'variant':<10}{'inquiries':>10}{'wall s':>9}{'inquiries/s':>13}"
        f"{'mean lat':>10}{'p95 lat':>8}{'bench CPU s':>13}{'server CPU s':>14}"
    )
    for phase in phases:
        print(phase_row(phase))

    print(f"\nper inquiry, mean over the timed runs (the floor is 2 x {timer} s of timers):")
    print(COUNT_HEADER)
    totals: dict[str, tuple[int, float]] = {}
    for name in (CAREFLOW, BARE):
        mine = [p for p in phases if p.variant == name]
        print(count_row(name, mean_counts([c for p in mine for c in p.counts]), 2))
        totals[name] = (sum(p.inquiries for p in mine), sum(p.wall for p in mine))
    print(f"{'variant':<10}{'bench CPU ms':>14}{'server CPU ms':>15}{'mean latency s':>16}")
    for name in (CAREFLOW, BARE):
        mine = [p for p in phases if p.variant == name]
        count = sum(p.inquiries for p in mine)
        bench = 1000 * sum(p.bench_cpu for p in mine) / count
        servers = [p.server_cpu for p in mine]
        server = (
            "n/a"
            if any(s is None for s in servers)
            else f"{1000 * sum(s or 0.0 for s in servers) / count:.1f}"
        )
        latency = statistics.fmean(s for p in mine for s in p.latencies)
        print(f"{name:<10}{bench:>14.1f}{server:>15}{latency:>16.2f}")

    rates = {name: count / wall for name, (count, wall) in totals.items()}
    ratio = rates[CAREFLOW] / rates[BARE]
    rounds = sorted({p.round for p in phases})
    per_round = ", ".join(
        f"{_rate(phases, r, CAREFLOW) / _rate(phases, r, BARE):.2f}" for r in rounds
    )
    print(
        f"\ncareflow {rates[CAREFLOW]:.1f} inquiries/s, bare {rates[BARE]:.1f} inquiries/s "
        "(all rounds: inquiries / summed wall time)"
    )
    print(f"ratio careflow/bare: {ratio:.2f} (per round: {per_round})")
    print(
        f"aim: careflow at >= 0.8 of the bare workflow: {ratio:.2f} -> "
        + ("met" if ratio >= 0.8 else "NOT met")
    )


def _rate(phases: list[Phase], round: int, variant: str) -> float:
    return next(p.rate for p in phases if p.round == round and p.variant == variant)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; --quick is a smoke run, the defaults are the real benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--inquiries", type=int, default=200, help="inquiries per variant per round"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds (order alternates)"
    )
    parser.add_argument("--concurrency", type=int, default=50, help="inquiries in flight at most")
    parser.add_argument(
        "--timer", type=int, default=1, help="seconds of the follow-up after and wait timers"
    )
    parser.add_argument("--quick", action="store_true", help="40 inquiries per round (smoke)")
    parser.add_argument(
        "--no-search-attributes",
        dest="search_attributes",
        action="store_false",
        help="inquiries keep no search attributes (InquiryInput(search_attributes=False))",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.inquiries = 40
    if min(args.inquiries, args.rounds, args.concurrency, args.timer) < 1:
        parser.error("--inquiries, --rounds, --concurrency and --timer must be at least 1")
    return args


async def bench(args: argparse.Namespace, home: Path) -> int:
    began = time.perf_counter()
    pack, digest = write_pack(home, args.timer)
    base = Inquiry.model_validate_json(EXAMPLE.read_text(encoding="utf-8"))
    env = await start_dev_server(home)
    print(f"dev server {DEV_SERVER} up in {time.perf_counter() - began:.1f} s")
    print(
        f"careflow pack: {DEFAULT_PACK.relative_to(ROOT)} with every windows calendar 'always' "
        f"and follow_up after/wait {args.timer}s, checked (sha256 {digest[:12]})"
    )
    print(
        f"scenario per inquiry: start '{EXAMPLE.stem}' -> signal customer_message -> update "
        f"reply -> update resolve -> follow-up after {args.timer} s -> closed by silence "
        f"{args.timer} s later; search attributes {'on' if args.search_attributes else 'off'}"
    )
    note = bytecode_note()
    if note:
        print(note)
    settings = Settings(
        rules=str(pack),
        home=home,
        temporal=TemporalSettings(task_queue=f"bench-careflow-{uuid.uuid4().hex[:6]}"),
    )
    bare_queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    bare_activities = BareActivities(SandboxAdapter(home / "bare-outbox.jsonl"))
    async with (
        env,
        build_worker(env.client, settings),
        Worker(
            env.client,
            task_queue=bare_queue,
            workflows=[BareInquiryWorkflow],
            activities=[bare_activities.post],
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        ),
    ):
        client = env.client
        variants = {
            CAREFLOW: careflow_variant(
                client, settings.temporal.task_queue, base, args.search_attributes
            ),
            BARE: bare_variant(client, bare_queue, base, args.search_attributes, args.timer),
        }
        # One inquiry each, alone: warms the workers, and its history is the scenario's cost.
        print("\nreference run (one inquiry of each, alone on the server), from its history:")
        print(COUNT_HEADER)
        for name, variant in variants.items():
            workflow_id = await variant.drive(f"reference-{uuid.uuid4().hex[:6]}")
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            counts, activity_types = count_history(history)
            print(count_row(name, counts, 0) + "   " + ", ".join(activity_types))

        print(
            f"\ntimed: {args.inquiries} inquiries per variant per round, {args.rounds} round(s), "
            f"at most {args.concurrency} in flight, one worker process for both (this one)"
        )
        phases: list[Phase] = []
        for round in range(1, args.rounds + 1):
            order = (CAREFLOW, BARE) if round % 2 else (BARE, CAREFLOW)
            for name in order:
                phase = await timed_phase(
                    variants[name], client, round, args.inquiries, args.concurrency
                )
                phases.append(phase)
                print(
                    f"round {round} {name}: {phase.rate:.1f} inquiries/s "
                    f"({time.perf_counter() - began:.0f} s)"
                )
    report(phases, args.timer)
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_in_scratch_home(bench, parse_args(argv), "workflow")


if __name__ == "__main__":
    leave(main())
