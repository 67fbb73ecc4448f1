"""``careflow rules whatif``'s two paths against their baselines, measured in the same run.

Fast path: inquiries per second through ``run_fast`` (two rule files, the received decision and
the acknowledge clock each) against ``rules explain``'s engine call alone (one ``received``
evaluation per inquiry), over the recorded inquiries of tests/workflows/histories repeated to
``--inquiries``. Full path: inquiries per second through ``run_full`` (each inquiry re-run twice
on time-skipping test servers) against replaying the same histories with ``Replayer``. Machines
are noisy: read the ratios, not the times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from careflow.engine.ruleset import load_ruleset
from careflow.whatif.fast import run_fast
from careflow.whatif.full import run_full
from careflow.whatif.recorded import recorded_inquiries
from workflows.inquiry import InquiryWorkflow

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "workflows" / "histories"


def _histories() -> list[WorkflowHistory]:
    files = sorted(HISTORIES.glob("*.json"))
    return [WorkflowHistory.from_json(f.stem, json.loads(f.read_text())) for f in files]


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


def _round_the_clock(folder: Path) -> Path:
    text = (ROOT / "rules" / "default.yaml").read_text()
    path = folder / "round-the-clock.yaml"
    path.write_text(text.replace("calendar: care-hours", "calendar: always"))
    return path


async def main(count: int, parallel: int) -> None:
    histories = _histories()
    recorded = await recorded_inquiries(pydantic_data_converter, histories)
    with tempfile.TemporaryDirectory() as folder:
        rules = load_ruleset(_round_the_clock(Path(folder)))
        baseline = load_ruleset(ROOT / "rules" / "default.yaml")
        many = (recorded * (count // len(recorded) + 1))[:count]

        started = time.perf_counter()
        for one in many:
            rules.evaluate("received", one.input.inquiry, bounded=True)
        engine_rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        run_fast(rules, baseline, many)
        fast_rate = count / (time.perf_counter() - started)
        print(f"fast path: {fast_rate:,.0f} inquiries/s; rules explain's engine call alone "
              f"{engine_rate:,.0f}/s; ratio {engine_rate / fast_rate:.1f}x the engine call")  # fmt: skip

        replayer = Replayer(workflows=[InquiryWorkflow], data_converter=pydantic_data_converter)
        started = time.perf_counter()
        await replayer.replay_workflows(_each(histories), raise_on_replay_failure=False)
        replay_rate = len(histories) / (time.perf_counter() - started)
        started = time.perf_counter()
        report = await run_full(rules, baseline, recorded, parallel=parallel)
        full_rate = len(recorded) / (time.perf_counter() - started)
        print(f"full path: {full_rate:,.1f} inquiries/s ({report.inquiries} re-run twice, "
              f"{len(report.skipped)} skipped, {parallel} test servers); Replayer "
              f"{replay_rate:,.1f} histories/s; ratio {replay_rate / full_rate:.1f}x the replay")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=5000, help="fast path inquiries")
    parser.add_argument("--parallel", type=int, default=2, help="full path test servers")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.inquiries, arguments.parallel))
