"""An ASGI app served by uvicorn in a thread of this process: the intake and the fake platform
inside ``careflow up``, and the same servers in tests.

In a thread, uvicorn leaves signal handling alone, so Ctrl-C stays with the caller, which stops
the worker, then these servers, then Temporal. Each thread runs its own event loop.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp


class DroppedConnection(Exception):
    """Raised after the response started: uvicorn then closes the connection mid-answer."""


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for each connection dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DroppedConnection)


def free_port() -> int:
    """A TCP port nothing listens on right now (tests and benchmarks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThreadedServer:
    """``app`` on ``127.0.0.1:port`` until ``stop()``."""

    def __init__(self, app: ASGIApp, port: int, name: str, log_level: str = "warning") -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, access_log=False, log_level=log_level
        )
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)
        logging.getLogger("uvicorn.error").addFilter(QuietDrops())

    def start(self, wait: float = 10.0) -> ThreadedServer:
        """Start serving; returns once the port accepts connections (or raises after ``wait``)."""
        self.thread.start()
        deadline = time.monotonic() + wait
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.thread.name} did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving; a server never started (its caller failed first) has nothing to stop."""
        self.server.should_exit = True
        if self.thread.ident is not None:
            self.thread.join(timeout=10)
