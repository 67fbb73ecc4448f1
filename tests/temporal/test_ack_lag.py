"""Acknowledgements falling behind, on a real dev server: ``GET /health`` counts the
unacknowledged inquiries and says how long posts wait for a worker (a problem past the internal
target), and the worker's watch notifies supervisors once when they fall behind and once when
they have caught up."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from temporalio.client import Client

from activities.adapters.sandbox import SandboxAdapter
from careflow.engine.ruleset import ruleset_from_text
from careflow.http.health import health_route
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.health import LagWatch, acknowledgement_target
from careflow.temporal.intake import intake
from careflow.temporal.worker import build_worker, supervisor_notifier
from tests.harness import CUSTOMERS, dev_server, example
from tests.http.test_webhook_intake import request

# Every post is acknowledged at once: once a worker has run an inquiry, it is acknowledged.
PACK = """\
version: 1
name: at-once
windows:
  standard: {acknowledge: {internal: 2s, published: 1h}, resolve: {internal: 4h, published: 24h}}
defaults: {windows: standard, privatize: never}
targets:
  supervisors: {webhook: "https://hooks.example.com/supervisors"}
templates:
  ack: "Thanks, we're on it."
  follow_up: "Is everything sorted?"
rules:
  - {name: at-once, on: received, do: [{reply: {template: ack}}]}
"""


def test_health_shows_acknowledgements_falling_behind_and_supervisors_hear_of_it(
    tmp_path: Path,
) -> None:
    ruleset = ruleset_from_text(PACK, "at-once.yaml")
    target = acknowledgement_target(ruleset)
    assert target == timedelta(seconds=2)
    settings = Settings(
        rules=str(tmp_path / "at-once.yaml"),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="lag-test"),
    )
    (tmp_path / "at-once.yaml").write_text(PACK, encoding="utf-8")
    adapter = SandboxAdapter(settings.outbox)

    def notifications() -> list[str]:
        if not settings.outbox.exists():
            return []
        lines = [json.loads(line) for line in settings.outbox.read_text().splitlines()]
        return [
            e["text"] for e in lines if e["kind"] == "notification" and e["to"] == "supervisors"
        ]

    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client

            async def factory() -> Client:
                return client

            app = Starlette(routes=[health_route("lag-test", factory, target)])
            watch = LagWatch(client, "lag-test", target, supervisor_notifier(adapter, ruleset))
            now = await env.get_current_time()
            posts = [
                example("question", now, id=f"p{i}", conversation_id=f"c{i}") for i in range(3)
            ]
            for post in posts:
                await intake(client, "lag-test", post, ruleset, customers=CUSTOMERS)

            # No worker yet: three posts wait, and after the target they are behind.
            await asyncio.sleep(3.5)
            answer = await request(app, "GET", "/health")
            assert answer.status_code == 503
            body = answer.json()
            acks = body["acknowledgements"]
            assert (acks["unacknowledged"], acks["untriaged"]) == (3, 3)
            assert 2.0 <= acks["oldest_unacknowledged_seconds"] <= 10.0
            assert acks["lag_seconds"] >= 2.0 and acks["behind"]
            assert any("acknowledgements are falling behind" in w for w in body["warnings"])
            assert "c0" not in answer.text and "hikerjules" not in answer.text  # counts only

            await watch.once()
            await watch.once()  # still behind: no second notification
            assert len(notifications()) == 1
            assert "falling behind" in notifications()[0]

            # A worker catches up: every inquiry acknowledged, the problem gone, supervisors told.
            async with build_worker(client, settings, adapter):
                for _ in range(100):
                    health = await watch.once()
                    acks_now = health.acknowledgements
                    if acks_now is not None and acks_now.unacknowledged == 0:
                        break
                    await asyncio.sleep(0.5)
                answer = await request(app, "GET", "/health")
            body = answer.json()
            assert body["acknowledgements"]["unacknowledged"] == 0
            assert body["acknowledgements"]["oldest_unacknowledged_seconds"] is None
            assert not body["acknowledgements"]["behind"]
            assert (answer.status_code, body["problems"], body["warnings"]) == (200, [], [])
            assert len(notifications()) == 2
            assert "back within" in notifications()[1]

    asyncio.run(scenario())
