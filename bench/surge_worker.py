"""One worker process for ``bench/surge_bench.py``: careflow's real worker, or the bare one.

Run by the bench, never by hand: ``python bench/surge_worker.py careflow|bare ADDRESS QUEUE HOME
[RULES]``. It polls until SIGTERM, then lets in-flight activities finish. Both write their posts
to the sandbox outbox in HOME (shared by the processes, locked per line), where the bench reads
when each acknowledgement went out.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.adapters.sandbox import SandboxAdapter
from bench.bare_surge import BareSurgeWorkflow
from bench.bare_workflow import BareActivities
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.worker import GRACEFUL_SHUTDOWN, build_worker


def worker(variant: str, client: Client, queue: str, home: Path, rules: str) -> Worker:
    settings = Settings(rules=rules, home=home, temporal=TemporalSettings(task_queue=queue))
    if variant == "careflow":
        return build_worker(client, settings, SandboxAdapter(settings.outbox))
    activities = BareActivities(SandboxAdapter(settings.outbox))
    return Worker(
        client,
        task_queue=queue,
        workflows=[BareSurgeWorkflow],
        activities=[activities.post],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run(variant: str, address: str, queue: str, home: Path, rules: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with worker(variant, client, queue, home, rules):
        await stop.wait()


if __name__ == "__main__":
    variant, address, queue, home = sys.argv[1:5]
    rules = sys.argv[5] if len(sys.argv) > 5 else ""
    asyncio.run(run(variant, address, queue, Path(home), rules))
    sys.stdout.flush()
    import os

    os._exit(0)  # the SDK's Rust threads can abort CPython's teardown (sdk-python#300)
