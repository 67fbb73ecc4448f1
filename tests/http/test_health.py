"""``GET /health`` on a real dev server (no worker, then one), and a conversation id with '/'
reachable through the agent API from webhook to action."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client

from careflow.engine.ruleset import load_ruleset
from careflow.errors import CareflowError
from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, TemporalSettings
from careflow.temporal.health import warn_without_worker
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, example, round_the_clock_pack
from tests.http.test_agent_api import ANA, TOKENS
from tests.http.test_webhook_intake import SECRETS, request, signed, until_status


def test_health_is_503_while_temporal_is_unreachable(tmp_path: Path) -> None:
    async def down() -> Client:
        raise CareflowError("cannot reach Temporal at localhost:1")

    app = create_app(SECRETS, down, load_ruleset(round_the_clock_pack(tmp_path)))
    answer = asyncio.run(request(app, "GET", "/health"))
    assert answer.status_code == 503
    body = answer.json()
    assert (body["ok"], body["temporal_reachable"]) == (False, False)
    assert "cannot reach Temporal" in body["problems"][0]


def test_health_and_a_slash_in_a_conversation_id_on_a_dev_server(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pack = round_the_clock_pack(tmp_path)
    settings = replace(
        SECRETS,
        rules=str(pack),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="health-test"),
        api=ApiTokenSettings(tokens=TOKENS),
    )

    async def scenario() -> None:
        async with await dev_server() as env:

            async def factory() -> Client:
                return env.client

            app = create_app(settings, factory, load_ruleset(pack))
            idle = await request(app, "GET", "/health")
            assert idle.status_code == 503
            body = idle.json()
            assert (body["ok"], body["temporal_reachable"]) == (False, True)
            assert [queue["pollers"] for queue in body["queues"]] == [0, 0]
            assert len(body["problems"]) == 2 and "workflow tasks" in body["problems"][0]
            with caplog.at_level(logging.WARNING, logger="careflow.temporal.health"):
                await warn_without_worker(env.client, "health-test")
            (line,) = [r for r in caplog.records if r.name == "careflow.temporal.health"]
            assert "no worker is polling task queue 'health-test'" in line.getMessage()

            async with build_worker(env.client, settings):
                for _ in range(50):
                    healthy = await request(app, "GET", "/health")
                    if healthy.status_code == 200:
                        break
                    await asyncio.sleep(0.2)
                assert healthy.status_code == 200, healthy.text
                queues = {queue["kind"]: queue for queue in healthy.json()["queues"]}
                assert set(queues) == {"workflow", "activity"}
                assert all(queue["pollers"] >= 1 for queue in queues.values())
                assert all(isinstance(queue["backlog"], int) for queue in queues.values())

                # A '/' in a conversation id: started, then reached through the agent API.
                post = example("question", datetime.now(UTC), conversation_id="thread/42")
                body_bytes = post.model_dump_json().encode()
                taken = await request(
                    app,
                    "POST",
                    "/webhooks/generic",
                    content=body_bytes,
                    headers=signed("", body_bytes),
                )
                assert taken.json()["started"] == ["inquiry-x-thread/42"], taken.text
                await until_status(env.client, "inquiry-x-thread/42", lambda s: True)
                for path in ("/inquiries/inquiry-x-thread/42", "/inquiries/inquiry-x-thread%2F42"):
                    status = await request(app, "GET", path, headers=ANA)
                    assert status.status_code == 200, status.text
                    assert status.json()["inquiry"]["conversation_id"] == "thread/42"
                acked = await request(
                    app, "POST", "/inquiries/inquiry-x-thread/42/ack", headers=ANA, json={}
                )
                assert acked.status_code == 200, acked.text

    asyncio.run(scenario())
