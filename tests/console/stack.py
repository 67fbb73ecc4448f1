"""The whole stack for the console's browser tests, in a thread of its own: a Temporal dev
server, a worker posting to the fake X, the app (intake, agent API, console) and the fake
platform, each on a free port. Playwright's sync API runs in the test's thread, which must hold
no event loop; the stack keeps its own loop here until ``stop``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from temporalio.client import Client

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app
from careflow.devtools.fake_webhooks import Customer, Secrets, send, x_mention
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
from careflow.temporal.connection import Connection, connect
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, quick_follow_up_pack

T = TypeVar("T")
SECRETS = Secrets(x_consumer_secret="x-consumer-console", meta_app_secret="meta-app-console")
TOKENS = (
    "tok-ana=agent:Ana,tok-bo=agent:Bo,tok-sam=supervisor:Sam,tok-audra=auditor:Audra,"
    "tok-rita=reviewer:Rita"
)
# A post saying "stopwatch" gets a resolve clock that warns, misses its internal target and its
# published window within seconds (the countdown's colours); the others keep the default pack's.
STOPWATCH = """  stopwatch:
    calendar: always
    acknowledge: {internal: 30m, published: 60m}
    resolve: {internal: 8s, published: 14s, warn_before: 10s}
    next_reply: {internal: 1h, published: 2h}
"""
# Resolution and reopen codes the console's forms suggest and the workflow enforces.
REASONS = """reasons:
  resolve: [delivered, replaced, refunded]
  reopen: [not_fixed, customer_asked]
"""
# Every closed inquiry is sampled for a quality review.
QA = """qa:
  rubric:
    version: console-v1
    criteria:
      empathy: {scale: 5, description: Acknowledges how the customer feels}
      tone: {scale: 3, description: Sounds like us and not a script}
  sampling: {share: 100%}
  dispute_within: 1h
"""
STOPWATCH_RULE = """
  - name: console-stopwatch
    on: received
    when: {text: {contains_any: [stopwatch]}}
    do: [{set: {windows: stopwatch}}]
"""


def console_pack(home: Path) -> Path:
    """The quick follow-up pack, its follow-up waiting 6 s for the customer (time to reopen),
    the stopwatch windows, reason codes for resolve and reopen, and every closed inquiry
    sampled for review."""
    path = quick_follow_up_pack(home)
    text = path.read_text()
    quick = "after: 1s, wait: 1s"
    assert quick in text and "\nwindows:\n" in text
    text = text.replace(quick, "after: 1s, wait: 6s").replace(
        "\nwindows:\n", "\nwindows:\n" + STOPWATCH, 1
    )
    text = text.replace("\nrules:\n", "\n" + REASONS + QA + "rules:\n", 1)
    path.write_text(text.rstrip("\n") + "\n" + STOPWATCH_RULE)
    return path


class ConsoleStack:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the app's (console and API)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = ""
        self.fake_url = ""  # the fake X's: ``/_fake/posts`` lists what was posted
        self.client: Client | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="console-stack", daemon=True)

    def start(self, wait: float = 120) -> ConsoleStack:
        self._thread.start()
        if not self._ready.wait(wait) or self._failed is not None:
            raise RuntimeError(f"the console's stack did not start: {self._failed!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` (with ``self.client``) on the stack's loop, from the test's thread."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(60)

    def post(self, post_id: str, handle: str, text: str, followers: int = 120) -> str:
        """A customer's tweet at the brand, delivered as X's signed webhook; the workflow id."""
        started: list[str] = self._deliver(post_id, handle, text, followers)["started"]
        return started[0]

    def reply(self, post_id: str, to: str, handle: str, text: str) -> None:
        """The customer of post ``to`` replies to it (tweet ``post_id``): it joins the inquiry."""
        self._deliver(post_id, handle, text, 120, in_reply_to=to)

    def _deliver(
        self, post_id: str, handle: str, text: str, followers: int, in_reply_to: str | None = None
    ) -> dict[str, Any]:
        first = in_reply_to or post_id
        customer = Customer(id=f"7{first[-6:]}", handle=handle, name=handle, followers=followers)

        async def deliver() -> httpx.Response:
            async with httpx.AsyncClient(timeout=30) as http:
                event = x_mention(post_id, customer, text, datetime.now(UTC), in_reply_to)
                return await send(http, self.url, event, SECRETS)

        assert self._loop is not None
        # On the stack's loop: Playwright's sync API keeps a loop of its own in this thread.
        answer = asyncio.run_coroutine_threadsafe(deliver(), self._loop).result(60)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # said by start(), which waits for it
            self._failed = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        pack = console_pack(self.home)
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            fake_port, app_port = free_port(), free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            settings = Settings(
                rules=str(pack),
                home=self.home,
                temporal=TemporalSettings(address=address, task_queue="console"),
                platform=PlatformSettings(
                    adapter="platform", x_api_base=fake_url, x_bearer_token=DEFAULT_TOKEN
                ),
                webhooks=WebhookSecrets(x_consumer_secret=SECRETS.x_consumer_secret),
                api=ApiTokenSettings(tokens=TOKENS),
            )

            async def client_factory() -> Client:
                return await connect(Connection.of(settings))

            app = ThreadedServer(
                create_app(settings, client_factory, load_ruleset(pack)),
                app_port,
                "console-app",
                "critical",
            )
            fake = ThreadedServer(
                fake_platform_app(intake_url=app.url, secrets=SECRETS),
                fake_port,
                "console-fake",
                "critical",
            )
            await asyncio.to_thread(app.start)
            await asyncio.to_thread(fake.start)
            try:
                async with build_worker(env.client, settings):
                    self.url, self.fake_url, self.client = app.url, fake_url, env.client
                    self._ready.set()
                    await self._stop.wait()
            finally:
                await asyncio.to_thread(fake.stop)
                await asyncio.to_thread(app.stop)
