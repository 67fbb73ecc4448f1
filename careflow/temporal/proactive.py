"""Proactive posts from outside: list them, approve or reject one (``careflow proactive``, the
API's ``/proactive`` routes). Each decision is the workflow's own update, so its validator
answers a draft that was decided or expired already."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus

from careflow.temporal.explain import explained
from careflow.temporal.inquiries import quoted
from workflows.proactive import ProactivePostWorkflow
from workflows.proactive_types import (
    PROACTIVE_WORKFLOW,
    ApproveRequest,
    ProactiveStatus,
    RejectRequest,
)

LIST_QUERY = f"WorkflowType={quoted(PROACTIVE_WORKFLOW)}"
NOUN = "proactive post"  # what an unknown id is said to be of


async def list_proactive(client: Client, limit: int = 200) -> list[ProactiveStatus]:
    """The latest proactive posts, awaiting ones first, then newest first: each one's status
    (its query, or its result once it finished)."""
    found: list[ProactiveStatus] = []
    with explained(client):
        async for execution in client.list_workflows(LIST_QUERY, limit=limit):
            handle = client.get_workflow_handle_for(
                ProactivePostWorkflow.run, execution.id, run_id=execution.run_id
            )
            if execution.status == WorkflowExecutionStatus.COMPLETED:
                found.append(await handle.result())
            elif execution.status == WorkflowExecutionStatus.RUNNING:
                found.append(await handle.query(ProactivePostWorkflow.status))
    found.sort(key=lambda s: s.created_at, reverse=True)
    return sorted(found, key=lambda s: s.status != "awaiting")


async def approve(client: Client, post_id: str, by: str, text: str | None) -> ProactiveStatus:
    """Post the draft (or ``text``); answers once it is posted."""
    with explained(client, post_id, NOUN):
        handle = client.get_workflow_handle_for(ProactivePostWorkflow.run, post_id)
        return await handle.execute_update(
            ProactivePostWorkflow.approve, ApproveRequest(by=by, text=text)
        )


async def reject(client: Client, post_id: str, by: str, reason: str) -> ProactiveStatus:
    with explained(client, post_id, NOUN):
        handle = client.get_workflow_handle_for(ProactivePostWorkflow.run, post_id)
        return await handle.execute_update(
            ProactivePostWorkflow.reject, RejectRequest(by=by, reason=reason)
        )
