"""An id that is no proactive post's is said so, on the CLI and the API (404), not as "no
inquiry": a supervisor who mistyped a draft's id should not go looking for an inquiry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from temporalio.client import Client

from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, Settings
from tests.audit.cli import careflow
from tests.harness import dev_server

SAM = {"Authorization": "Bearer tok-sam"}
UNKNOWN = "proactive-outage-spike-nowhere-1"


def test_an_unknown_proactive_post_is_named_as_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host
            for command in (["approve"], ["reject", "--reason", "not ours"]):
                code, out, err = await careflow(
                    address, tmp_path, "proactive", command[0], UNKNOWN, "--agent", "Sam",
                    *command[1:],
                )  # fmt: skip
                assert code == 1, out + err
                assert err.strip() == f"error: no proactive post with id {UNKNOWN}"

            async def factory() -> Client:
                return env.client

            settings = Settings(
                home=tmp_path, api=ApiTokenSettings(tokens="tok-sam=supervisor:Sam")
            )
            app = create_app(settings, factory)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api"
            ) as api:
                for decision, body in (("approve", {}), ("reject", {"reason": "not ours"})):
                    answer = await api.post(
                        f"/proactive/{UNKNOWN}/{decision}", headers=SAM, json=body
                    )
                    assert answer.status_code == 404, answer.text
                    assert answer.json()["error"] == f"no proactive post with id {UNKNOWN}"
                # A mistyped decision is not taken for a rejection.
                typo = await api.post(f"/proactive/{UNKNOWN}/aprove", headers=SAM, json={})
                assert typo.status_code == 404
                assert typo.json()["error"] == "no decision 'aprove': POST …/approve or …/reject"

    asyncio.run(scenario())
