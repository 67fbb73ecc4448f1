"""One inquiry and the queue from outside a worker: the status query, agent actions (Updates),
and the open inquiries listed from visibility."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import SearchAttributeKey
from temporalio.workflow import UpdateMethodMultiParam

from activities.types import LOAD_RULES
from careflow.errors import CareflowError
from careflow.temporal.explain import explained
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import WORKFLOW_NAME, ActionResult
from workflows.state import InquiryStatus

OPEN_QUERY = f"WorkflowType='{WORKFLOW_NAME}' AND ExecutionStatus='Running'"
# Without a worker a query or an update waits for one; a person at a terminal should not.
QUERY_TIMEOUT = 15.0
# An action may deliver a message, whose retries take up to about a minute.
ACTION_TIMEOUT = 90.0
# While an action waits, how often to ask whether the inquiry's rules have failed to load.
RULES_CHECK_EVERY = 2.0

Action = UpdateMethodMultiParam[[InquiryWorkflow, Any], ActionResult]


class RulesNotLoaded(CareflowError):
    """The inquiry cannot answer yet: its rule file fails to load (it waits for a fix)."""


def handle(client: Client, inquiry_id: str) -> WorkflowHandle[InquiryWorkflow, Any]:
    return client.get_workflow_handle_for(InquiryWorkflow.run, inquiry_id)


async def status(client: Client, inquiry_id: str) -> InquiryStatus:
    """The inquiry's status query (works on closed inquiries too)."""
    with explained(client, inquiry_id):
        async with asyncio.timeout(QUERY_TIMEOUT):
            while True:
                try:
                    return await handle(client, inquiry_id).query(InquiryWorkflow.status)
                except WorkflowQueryFailedError as error:
                    # Right after submit the rules may still be loading: a moment, not an error,
                    # unless loading them has failed (a broken rule file): then that is the answer.
                    if "still starting" not in error.message:
                        raise
                    why = await rules_failure(client, inquiry_id)
                    if why is not None:
                        raise RulesNotLoaded(f"the rules cannot be loaded: {why}") from None
                await asyncio.sleep(0.2)


async def rules_failure(client: Client, inquiry_id: str) -> str | None:
    """Why the inquiry's ``load_rules`` activity failed last (it retries until the file is
    fixed), in one line; None while it has not failed."""
    described = await handle(client, inquiry_id).describe()
    for pending in described.raw_description.pending_activities:
        if pending.activity_type.name == LOAD_RULES and pending.HasField("last_failure"):
            lines = [line.strip() for line in pending.last_failure.message.splitlines()]
            first, *problems = [line for line in lines if line]
            return " ".join([first, "; ".join(problems)]) if problems else first
    return None


async def act(client: Client, inquiry_id: str, action: Action, request: BaseModel) -> ActionResult:
    """Run an agent action (an Update); a rejection becomes the validator's sentence.

    An inquiry whose rule file fails to load cannot act: the action is refused at once with the
    file's problem (``RulesNotLoaded``), nothing sent. If the rules fail while the action waits
    (it was accepted, and runs once they load), the agent hears that too, not a minute of
    silence."""
    with explained(client, inquiry_id):
        why = await rules_failure(client, inquiry_id)
        if why is not None:
            raise RulesNotLoaded(f"the rules cannot be loaded, nothing was done: {why}")
        async with asyncio.timeout(ACTION_TIMEOUT):
            update = asyncio.ensure_future(
                handle(client, inquiry_id).execute_update(action, request)
            )
            try:
                while True:
                    done, _ = await asyncio.wait({update}, timeout=RULES_CHECK_EVERY)
                    if done:
                        return update.result()
                    why = await rules_failure(client, inquiry_id)
                    if why is not None:
                        raise RulesNotLoaded(
                            "the rules cannot be loaded; the action is held and runs once "
                            f"they load: {why}"
                        )
            finally:
                update.cancel()


class OpenInquiry(BaseModel):
    """One line of the agents' queue, from memo and search attributes (no query needed)."""

    id: str
    channel: str | None
    author: str | None
    text: str | None
    url: str | None
    category: str | None
    priority: str | None
    queue: str | None
    step: str | None
    agent: str | None
    next_due: datetime | None
    breached: list[str]
    started: datetime


def _attr(attrs: Any, key: SearchAttributeKey[Any]) -> Any:
    return attrs.get(key)


async def list_open(client: Client, query: str = OPEN_QUERY) -> list[OpenInquiry]:
    """Open inquiries across channels, the most urgent deadline first (none last)."""
    rows: list[OpenInquiry] = []
    with explained(client):
        async for execution in client.list_workflows(query):
            memo = await execution.memo()
            attrs = execution.typed_search_attributes
            rows.append(
                OpenInquiry(
                    id=execution.id,
                    channel=_attr(attrs, search.CHANNEL) or memo.get("channel"),
                    author=memo.get("author"),
                    text=memo.get("text"),
                    url=memo.get("url"),
                    category=_attr(attrs, search.CATEGORY),
                    priority=_attr(attrs, search.PRIORITY),
                    queue=_attr(attrs, search.QUEUE),
                    step=_attr(attrs, search.STEP),
                    agent=_attr(attrs, search.AGENT),
                    next_due=_attr(attrs, search.NEXT_DUE),
                    breached=list(_attr(attrs, search.BREACHED) or []),
                    started=execution.start_time,
                )
            )
    return sorted(rows, key=lambda row: (row.next_due is None, row.next_due or row.started))
