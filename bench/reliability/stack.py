"""One careflow deployment on this machine, as real processes on free ports: the Temporal dev
server (its own SQLite file), the fake platform, the intake/agent API and a worker.

Each is what an operator runs (``temporal server start-dev``, ``careflow fake-platform``,
``careflow api``, ``careflow worker``), configured by environment only; the secrets are this
run's own random ones, so the hygiene check can look for them in every log.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from secrets import token_urlsafe
from typing import Literal

import httpx
from temporalio.client import Client

from bench.reliability.pack import write_pack
from bench.reliability.processes import Child, wait_until
from bench.reliability.slow_answers import SlowAnswers
from careflow.devtools.fake_webhooks import (
    BRAND_INSTAGRAM_ID,
    BRAND_PAGE_ID,
    BRAND_X_USER_ID,
    Secrets,
)
from careflow.http.serving import free_port
from careflow.temporal.devserver import temporal_binary
from workflows.search import dev_server_flags

ROOT = Path(__file__).resolve().parents[2]
CAREFLOW = [sys.executable, "-m", "careflow.cli.main"]
TASK_QUEUE = "reliability"
READY = 60.0  # seconds a process may take to answer (two busy cores, cold imports)
Adapter = Literal["sandbox", "platform"]


@dataclass(frozen=True)
class RunSecrets:
    """Everything secret in one deployment: what must appear in no log."""

    generic: str
    x_consumer: str
    meta_app: str
    meta_verify: str
    platform_token: str
    notify: str
    agent_token: str

    @classmethod
    def fresh(cls) -> RunSecrets:
        return cls(*(f"rel-{token_urlsafe(18)}" for _ in range(7)))

    def values(self) -> dict[str, str]:
        return {name: str(value) for name, value in vars(self).items()}

    @property
    def webhooks(self) -> Secrets:
        return Secrets(self.x_consumer, self.meta_app)


class Stack:
    """The four processes of one scenario, under ``root`` (rules, state, logs)."""

    def __init__(self, root: Path, adapter: Adapter, answer_delay: float = 0.0) -> None:
        """``answer_delay``: the worker reaches the platform through ``SlowAnswers``, which
        holds each answer back this many seconds."""
        self.root, self.adapter = root, adapter
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.rules = write_pack(root / "rules.yaml")
        self.secrets = RunSecrets.fresh()
        self.temporal_port, self.ui_port = free_port(), free_port()
        self.api_port, self.fake_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.fake_url = f"http://127.0.0.1:{self.fake_port}"
        self.relay = (
            SlowAnswers(free_port(), self.fake_port, answer_delay) if answer_delay else None
        )
        # Where the worker's platform adapter posts: the fake, or the relay in front of it.
        self.platform_url = f"http://127.0.0.1:{self.relay.port}" if self.relay else self.fake_url
        self.address = f"127.0.0.1:{self.temporal_port}"
        env = self._env()
        self.server = Child("temporal", self._server_command(), env, root / "temporal.log")
        self.fake = Child(
            "fake-platform",
            [
                *CAREFLOW,
                "fake-platform",
                "--port",
                str(self.fake_port),
                "--intake",
                self.api_url,
                "--token",
                self.secrets.platform_token,
            ],
            env,
            root / "fake-platform.log",
        )
        self.api = Child(
            "api", [*CAREFLOW, "api", "--port", str(self.api_port)], env, root / "api.log"
        )
        self.worker = Child("worker", [*CAREFLOW, "worker"], env, root / "worker.log")
        self.notes: list[str] = []

    @property
    def children(self) -> list[Child]:
        return [self.server, self.fake, self.api, self.worker]

    @property
    def outbox(self) -> Path:
        return self.home / "outbox.jsonl"

    def _server_command(self) -> list[str]:
        return [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.root / "temporal.db"),
            "--port",
            str(self.temporal_port),
            "--ui-port",
            str(self.ui_port),
            "--ip",
            "127.0.0.1",
            "--log-level",
            "warn",
            *dev_server_flags(),
        ]

    def _profile(self) -> Path:
        """A Temporal profile of its own, so a profile in the user's home is never read."""
        path = self.root / "temporal.toml"
        path.write_text(f'[profile.default]\naddress = "{self.address}"\n', encoding="utf-8")
        return path

    def _env(self) -> dict[str, str]:
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("CAREFLOW_", "TEMPORAL_", "OTEL_"))
        }
        secrets = self.secrets
        return {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "TEMPORAL_ADDRESS": self.address,
            "TEMPORAL_CONFIG_FILE": str(self._profile()),
            "CAREFLOW_TASK_QUEUE": TASK_QUEUE,
            "CAREFLOW_HOME": str(self.home),
            "CAREFLOW_RULES": str(self.rules),
            "CAREFLOW_ADAPTER": self.adapter,
            "CAREFLOW_X_API_BASE": self.platform_url,
            "CAREFLOW_X_BEARER_TOKEN": secrets.platform_token,
            "CAREFLOW_META_GRAPH_BASE": f"{self.platform_url}/v21.0",
            "CAREFLOW_META_PAGE_TOKEN": secrets.platform_token,
            "CAREFLOW_NOTIFY_WEBHOOK_URL": f"{self.fake_url}/hooks/care",
            "CAREFLOW_NOTIFY_WEBHOOK_SECRET": secrets.notify,
            "CAREFLOW_WEBHOOK_SECRET": secrets.generic,
            "CAREFLOW_X_CONSUMER_SECRET": secrets.x_consumer,
            "CAREFLOW_META_APP_SECRET": secrets.meta_app,
            "CAREFLOW_META_VERIFY_TOKEN": secrets.meta_verify,
            "CAREFLOW_API_TOKENS": f"{secrets.agent_token}=agent:Ana",
            "CAREFLOW_BRAND_X_USER_ID": BRAND_X_USER_ID,
            "CAREFLOW_BRAND_PAGE_ID": BRAND_PAGE_ID,
            "CAREFLOW_BRAND_INSTAGRAM_ID": BRAND_INSTAGRAM_ID,
        }

    async def start(self) -> None:
        """All four, started together, each waited for."""
        self.server.start()
        self.fake.start()
        if self.relay is not None:
            await self.relay.start()
        await self.server_ready()
        self.api.start()
        self.worker.start()
        await wait_until(
            self._answers(f"{self.fake_url}/_fake/posts"), "the fake", READY, self.fake
        )
        await self._api_ready()
        await self.worker_ready()

    async def _api_ready(self) -> None:
        """``careflow api`` answers ``/health`` (a start-up crash is the scenario's error)."""
        await wait_until(self._answers(f"{self.api_url}/health"), "the intake", READY, self.api)

    async def server_ready(self) -> None:
        async def ready() -> bool:
            try:
                client = await Client.connect(self.address)
                await client.count_workflows()
            except Exception:  # not listening yet, or the namespace not ready
                return False
            return True

        await wait_until(ready, "the Temporal server", READY, self.server)

    async def worker_ready(self) -> None:
        """The worker's start line for its latest start (it polls right after)."""
        starts = self.worker.starts

        async def ready() -> bool:
            return self.worker.output().count("worker on ") >= starts

        await wait_until(ready, "the worker", READY, self.worker)

    @staticmethod
    def _answers(url: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            try:
                async with httpx.AsyncClient(timeout=5) as http:
                    await http.get(url)
            except httpx.HTTPError:
                return False
            return True

        return check

    async def restart_worker(self) -> None:
        self.worker.start()
        await self.worker_ready()

    async def restart_server(self) -> None:
        """The same command: the same SQLite file and ports."""
        self.server.start()
        await self.server_ready()

    def break_rules(self, broken: bool = True) -> None:
        write_pack(self.rules, broken=broken)

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()

    async def aclose(self) -> None:
        self.close()
        if self.relay is not None:
            await self.relay.close()
