"""``careflow setup`` keeps the namespace's retention (how long Temporal keeps closed inquiries,
customer data included) at ``CAREFLOW_RETENTION``; it was never set nor checked before."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from tests.audit.cli import CAREFLOW
from tests.harness import dev_server


async def _setup(address: str, home: Path, retention: str | None) -> tuple[int, str, str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": address, "CAREFLOW_HOME": str(home)}
    env.pop("CAREFLOW_RETENTION", None)
    if retention is not None:
        env["CAREFLOW_RETENTION"] = retention
    process = await asyncio.create_subprocess_exec(
        str(CAREFLOW),
        "setup",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_setup_sets_and_checks_the_namespace_retention(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with await dev_server() as env:
            address = env.client.service_client.config.target_host

            async def retention() -> timedelta:
                described = await env.client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace="default")
                )
                return described.config.workflow_execution_retention_ttl.ToTimedelta()

            assert await retention() != timedelta(days=5)
            code, stdout, _ = await _setup(address, tmp_path, "5d")
            assert code == 0 and "retention of namespace default set to 5 days" in stdout
            assert await retention() == timedelta(days=5)
            code, stdout, _ = await _setup(address, tmp_path, "5d")
            assert code == 0 and "5 days, as CAREFLOW_RETENTION says" in stdout
            code, stdout, _ = await _setup(address, tmp_path, None)
            assert code == 0 and "retention of namespace default: 5 days (set" in stdout
            code, _, stderr = await _setup(address, tmp_path, "forever")
            assert code == 1 and "CAREFLOW_RETENTION='forever': give whole days" in stderr

    asyncio.run(scenario())
