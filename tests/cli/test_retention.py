"""``careflow setup`` keeps the namespace's retention (how long Temporal keeps closed inquiries,
customer data included) at ``CAREFLOW_RETENTION``; it was never set nor checked before."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from tests.audit.cli import careflow
from tests.harness import dev_server


async def _setup(address: str, home: Path, retention: str | None) -> tuple[int, str, str]:
    return await careflow(address, home, "setup", env_vars={"CAREFLOW_RETENTION": retention})


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
