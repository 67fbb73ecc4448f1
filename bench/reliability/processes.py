"""Child processes the suite starts, and the promise to leave none behind.

Every child runs in its own session (so a kill -9 takes its whole process group, and the
terminal's Ctrl-C reaches only the suite, which then stops them), writes its output to a log
file the hygiene check reads, and on Linux is asked to die with the suite (``PR_SET_PDEATHSIG``),
so even a suite killed with -9 leaves no server running. Children are started from the main
thread only: Linux sends that signal when the *thread* that forked exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
STOP_WAIT = 10.0


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGKILL the child when the suite dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


class Child:
    """One started command: its log file, its process group, kill -9 and a gentle stop."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, list(command), env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start (or start again after a kill): output appended to the same log."""
        with self.log.open("ab") as out:
            out.write(
                f"--- start {self.starts + 1} of {self.name}\n".encode()
            )  # no arguments: they may hold secrets
            out.flush()
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        self.starts += 1
        REGISTRY.append(self)

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def kill9(self) -> None:
        """SIGKILL the whole process group, as an out-of-memory killer or a pulled plug would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, a few seconds' grace, then SIGKILL: never left running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_WAIT)
        self.kill9()  # the group too: a child the command started must not outlive it


REGISTRY: list[Child] = []


def stop_all() -> None:
    """Stop every child ever started, newest first (a worker before its server)."""
    while REGISTRY:
        REGISTRY.pop().stop()


def leftovers(pgids: Sequence[int]) -> list[int]:
    """Live processes still in any of these process groups (a check that cleanup worked)."""
    wanted = set(pgids)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) in wanted and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float, child: Child | None = None
) -> None:
    """Poll ``check`` until it holds; a child that exits meanwhile, or the deadline, is an error
    that quotes the child's last output."""
    deadline = time.monotonic() + timeout
    while not await check():
        if child is not None and not child.running():
            raise RuntimeError(f"{child.name} exited while waiting for {what}:\n{tail(child)}")
        if time.monotonic() > deadline:
            extra = f":\n{tail(child)}" if child is not None else ""
            raise RuntimeError(f"waited {timeout:.0f}s for {what}{extra}")
        await asyncio.sleep(0.1)


def tail(child: Child, lines: int = 20) -> str:
    return "\n".join(child.output().splitlines()[-lines:])
