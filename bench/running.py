"""How the bench scripts start and end, and the two measurements several of them take.

Each script runs in a scratch ``CAREFLOW_HOME`` it removes, and leaves with ``os._exit``: the
SDK's Rust threads can abort CPython's teardown ("PyGILState_Release", temporalio/sdk-python#300),
as careflow's own CLI knows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from temporalio.client import Client

T = TypeVar("T")


def run_in_scratch_home(
    bench: Callable[[argparse.Namespace, Path], Coroutine[Any, Any, int]],
    args: argparse.Namespace,
    name: str,
) -> int:
    """``bench(args, home)`` in a temporary home named after the script, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"careflow-{name}-bench-") as home:
        return asyncio.run(bench(args, Path(home)))


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once the output is out, skipping the interpreter's teardown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def median_time(rounds: int, call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """The median wall time of ``rounds`` calls (after one warm-up), and what the last returned."""
    got = await call()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        got = await call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), got


async def until_counted(client: Client, query: str, count: int, tries: int = 600) -> None:
    """Wait until visibility counts ``count`` workflows for ``query`` (it trails the starts)."""
    for _ in range(tries):
        if (await client.count_workflows(query)).count >= count:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"visibility never counted {count} workflows for {query}")


def sized_args(
    argv: Sequence[str] | None, doc: str | None, sizes: tuple[int, ...]
) -> argparse.Namespace:
    """``--quick`` (200 and 1,000 workflows instead of ``sizes``) and ``--rounds`` (timed calls
    per figure): the options of the benches that time calls at a few sizes."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 workflows")
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per figure")
    args = parser.parse_args(argv)
    args.sizes = (200, 1000) if args.quick else sizes
    return args


def print_rows(title: str, head: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    """A blank line, ``title``, then ``head`` and ``lines`` in left-aligned columns."""
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    print(f"\n{title}")
    for row in [head, *lines]:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
