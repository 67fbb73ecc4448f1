"""A TCP relay between the worker and the fake platform that passes requests on at once and
holds each answer back for a while: the platform has recorded the post, careflow has not heard.

The fake's own ``delay`` fault waits *before* the post is recorded, and the fake drops a
request whose client went away meanwhile; so a worker killed during that delay leaves nothing
behind. Through this relay a kill -9 lands after the platform accepted the post and before the
worker could record it, the case a retry must reconcile rather than repeat. A client that goes
away does not take the request with it: the platform side stays open until it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class SlowAnswers:
    """Listens on 127.0.0.1:``port`` and relays to 127.0.0.1:``upstream``."""

    def __init__(self, port: int, upstream: int, delay: float) -> None:
        self.port, self.upstream, self.delay = port, upstream, delay
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[Any]] = set()  # every connection's relays, for close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        this = asyncio.current_task()  # the server's task for this connection: closed with us
        if this is not None:
            self.tasks.add(this)
            this.add_done_callback(self.tasks.discard)
        try:
            up_in, up_out = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_out.close()
            return
        forward = asyncio.create_task(self._requests(client_in, up_out))
        self.tasks.add(forward)
        forward.add_done_callback(self.tasks.discard)
        try:
            while chunk := await up_in.read(65536):
                await asyncio.sleep(self.delay)
                client_out.write(chunk)
                await client_out.drain()
        except (ConnectionError, OSError):
            pass  # the worker is gone: the platform has answered all the same
        finally:
            forward.cancel()
            for writer in (client_out, up_out):
                with contextlib.suppress(Exception):
                    writer.close()

    @staticmethod
    async def _requests(client_in: asyncio.StreamReader, up_out: asyncio.StreamWriter) -> None:
        """Client bytes upstream at once; the client's going away is not passed on."""
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await client_in.read(65536):
                up_out.write(chunk)
                await up_out.drain()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        pending = list(self.tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
