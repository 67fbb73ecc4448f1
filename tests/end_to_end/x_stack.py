"""What the X end-to-end stories share: a dev server, the signed intake and the fake platform
over real HTTP, a worker posting to X through the fake, and the questions the stories ask of
them (careflow's replies on the fake, an inquiry's CareThread, its messages)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import (
    ApiTokenSettings,
    PlatformSettings,
    Settings,
    TemporalSettings,
    WebhookSecrets,
)
from careflow.temporal import inquiries
from careflow.temporal.connection import Connection, connect
from careflow.temporal.worker import build_worker
from tests.end_to_end.test_end_to_end import SECRETS, TOKENS
from tests.harness import dev_server, round_the_clock_pack
from workflows import search


@dataclass(frozen=True)
class XStack:
    """The running stack as a story sees it."""

    http: httpx.AsyncClient
    client: Client
    api: str  # the intake's URL
    fake: str  # the fake platform's URL

    async def tweets(self) -> list[dict[str, Any]]:
        """What careflow tweeted, as the fake recorded it."""
        found = (await self.http.get(f"{self.fake}/_fake/posts")).json()
        return [post for post in found if post["kind"] == "tweet"]

    async def reply_of(self, tweet: str) -> dict[str, Any] | None:
        return next((p for p in await self.tweets() if p["in_reply_to"] == tweet), None)

    async def thread(self, wid: str) -> list[str]:
        described = await self.client.get_workflow_handle(wid).describe()
        return list(described.typed_search_attributes.get(search.THREAD) or [])

    async def holds(self, wid: str, tweet: str) -> bool:
        return tweet in await self.thread(wid)

    async def has_message(self, wid: str, message_id: str) -> Any:
        status = await inquiries.status(self.client, wid)
        return status if any(m.id == message_id for m in status.messages) else None


def run_x_stack(
    tmp_path: Path, task_queue: str, story: Callable[[XStack], Awaitable[None]]
) -> None:
    """``story`` against the whole stack, started on free ports and stopped after."""
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            fake_port, intake_port = free_port(), free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            settings = Settings(
                rules=str(pack),
                home=tmp_path,
                temporal=TemporalSettings(address=address, task_queue=task_queue),
                platform=PlatformSettings(
                    adapter="platform", x_api_base=fake_url, x_bearer_token=DEFAULT_TOKEN
                ),
                webhooks=WebhookSecrets(x_consumer_secret=SECRETS.x_consumer_secret),
                api=ApiTokenSettings(tokens=TOKENS),
            )

            async def client_factory() -> Client:
                return await connect(Connection.of(settings))

            intake_app = create_app(settings, client_factory, load_ruleset(pack))
            intake = ThreadedServer(intake_app, intake_port, f"{task_queue}-intake", "critical")
            fake_app = fake_platform_app(intake_url=intake.url, secrets=SECRETS)
            fake = ThreadedServer(fake_app, fake_port, f"{task_queue}-fake", "critical")
            await asyncio.to_thread(intake.start)
            await asyncio.to_thread(fake.start)
            try:
                async with (
                    build_worker(env.client, settings),
                    httpx.AsyncClient(timeout=120) as http,
                ):
                    await story(XStack(http, env.client, intake.url, fake_url))
            finally:
                await asyncio.to_thread(fake.stop)
                await asyncio.to_thread(intake.stop)

    asyncio.run(scenario())
