"""``careflow setup``: the namespace keeps closed inquiries (customer data) for as long as
``CAREFLOW_RETENTION`` says, no longer; without the setting, setup says what it is."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

from careflow.temporal.explain import explained


def _days(ttl: timedelta) -> str:
    days = ttl / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")


async def ensure_retention(client: Client, namespace: str, days: int | None) -> str:
    """Set the namespace's retention to ``days`` when it differs; the sentence saying what it
    is (and was)."""
    with explained(client):
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
        current = described.config.workflow_execution_retention_ttl.ToTimedelta()
        if days is None:
            return (
                f"retention of namespace {namespace}: {_days(current)} "
                "(set CAREFLOW_RETENTION, e.g. 90d, to have setup keep it)"
            )
        wanted = timedelta(days=days)
        if current == wanted:
            return (
                f"retention of namespace {namespace}: {_days(current)}, as CAREFLOW_RETENTION says"
            )
        ttl = Duration()
        ttl.FromTimedelta(wanted)
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=namespace,
                config=NamespaceConfig(workflow_execution_retention_ttl=ttl),
            )
        )
    return f"retention of namespace {namespace} set to {_days(wanted)} (was {_days(current)})"
