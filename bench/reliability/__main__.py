"""``python -m bench.reliability [--quick] [--keep] [SCENARIO...]``: run the reliability suite.

Each scenario prints one line as it ends, the run ends with a table; the exit status is 1 when
any scenario lost or doubled an acknowledgement or found another problem, 2 when one could not
run at all. Every process started is stopped on the way out, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.reliability.processes import stop_all
from bench.reliability.scenarios import FULL, QUICK, QUICK_SCENARIOS, SCENARIOS
from bench.reliability.tally import Result, table


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="small sizes, five scenarios")
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    arguments = parser.parse_args(argv)
    unknown = [name for name in arguments.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no such scenario: {', '.join(unknown)} (there are {', '.join(SCENARIOS)})")
    return arguments


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


async def _run(names: list[str], workdir: Path, quick: bool) -> tuple[list[Result], bool]:
    sizes = QUICK if quick else FULL
    results: list[Result] = []
    crashed = False
    for name in names:
        print(f"{name} …", flush=True)
        started = time.monotonic()
        try:
            result = await SCENARIOS[name](workdir, sizes)
        except Exception as error:  # a scenario that cannot run is reported, the rest still run
            traceback.print_exc()
            result = Result(name, seconds=time.monotonic() - started)
            result.problems.append(f"could not run: {type(error).__name__}: {error}")
            crashed = True
        results.append(result)
        print(result.line(), flush=True)
    return results, crashed


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    names = arguments.scenarios or list(QUICK_SCENARIOS if arguments.quick else SCENARIOS)
    workdir = Path(tempfile.mkdtemp(prefix="careflow-reliability-"))
    signal.signal(signal.SIGTERM, _terminate)
    try:
        results, crashed = asyncio.run(_run(names, workdir, arguments.quick))
    except KeyboardInterrupt:
        print("interrupted: stopping every process started", file=sys.stderr)
        return 130
    finally:
        stop_all()
        if arguments.keep:
            print(f"logs and databases kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(results))
    if crashed:
        return 2
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
