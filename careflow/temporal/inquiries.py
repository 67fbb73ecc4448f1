"""One inquiry and the queue from outside a worker: the status query, agent actions (Updates),
and the open inquiries listed from visibility."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.types import LOAD_RULES
from careflow.engine.post import Inquiry
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


async def exists(client: Client, inquiry_id: str) -> bool:
    """Whether any run, open or closed, has this workflow id."""
    with explained(client, inquiry_id):
        try:
            await handle(client, inquiry_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
    return True


def with_suffix(inquiry: Inquiry, suffix: str) -> Inquiry:
    """The post under other ids: its id and conversation's with ``-suffix`` ("" keeps them)."""
    if not suffix:
        return inquiry
    return inquiry.model_copy(
        update={
            "id": f"{inquiry.id}-{suffix}",
            "conversation_id": f"{inquiry.conversation_id}-{suffix}",
        }
    )


async def fresh(client: Client, posts: list[Inquiry]) -> str:
    """The first suffix ("", "2", "3", …) under which none of ``posts`` has an inquiry yet,
    open or closed: the files' own ids on a fresh server, new ones after (a tour played again)."""
    for number in range(1, 1000):
        suffix = "" if number == 1 else str(number)
        for post in posts:
            moved = with_suffix(post, suffix)
            if await exists(client, f"inquiry-{moved.channel}-{moved.conversation_id}"):
                break
        else:
            return suffix
    raise CareflowError("every suffix up to 999 is taken: start with a fresh home")


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


def quoted(value: str) -> str:
    """A string literal for a visibility query: backslashes and quotes escaped, so a value can
    never end the literal and add a clause (``billing' OR 'a'='a`` stays one value)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class BadQueueRequest(CareflowError):
    """A filter or page token the queue cannot take: the caller's mistake, said in a sentence."""


@dataclass(frozen=True)
class QueueFilters:
    """What an agent narrows the queue to; each set field must match exactly, all combine.

    They become clauses of the visibility query (``to_query``), so the server returns only the
    matching inquiries instead of careflow listing them all and filtering here."""

    queue: str | None = None
    category: str | None = None
    priority: str | None = None
    agent: str | None = None
    channel: str | None = None
    unassigned: bool = False

    def __post_init__(self) -> None:
        if self.unassigned and self.agent is not None:
            raise BadQueueRequest("agent and unassigned exclude each other: give one")
        for name in FILTER_KEYS:
            value = getattr(self, name)
            if value is not None and (not value.strip() or any(ord(c) < 32 for c in value)):
                raise BadQueueRequest(f"{name} must be a name, not empty or control characters")

    def to_query(self, base: str = OPEN_QUERY) -> str:
        """``base`` and one escaped clause per filter."""
        parts = [base]
        for name, key in FILTER_KEYS.items():
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{key.name}={quoted(value)}")
        if self.unassigned:
            parts.append(f"{search.AGENT.name} IS NULL")
        return " AND ".join(parts)


FILTER_KEYS: dict[str, SearchAttributeKey[Any]] = {
    "queue": search.QUEUE,
    "category": search.CATEGORY,
    "priority": search.PRIORITY,
    "agent": search.AGENT,
    "channel": search.CHANNEL,
}


class QueuePage(BaseModel):
    """One page of the queue, nearest due first within the page, and the token of the next
    (None: this was the last). Without a page size, the page is the whole queue."""

    rows: list[OpenInquiry]
    next_page_token: bytes | None = None


def encode_token(token: bytes | None) -> str | None:
    """A page token as text for a URL or a terminal (URL-safe base64, unpadded: nothing to
    escape in a query string)."""
    return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=") if token else None


def decode_token(text: str) -> bytes:
    """The page token ``encode_token`` made; anything else is a BadQueueRequest, never sent to
    the server (the dev server answers a malformed token with retried internal errors)."""
    try:
        token = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
        json.loads(token)  # SQL and Elasticsearch visibility both page with JSON
    except (ValueError, UnicodeError):
        raise BadQueueRequest("the page token is not one the queue gave") from None
    return token


MAX_PAGE_SIZE = 1000


def row_of(execution: WorkflowExecution, memo: Mapping[str, Any]) -> OpenInquiry:
    attrs = execution.typed_search_attributes
    return OpenInquiry(
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


def _by_due(rows: list[OpenInquiry]) -> list[OpenInquiry]:
    return sorted(rows, key=lambda row: (row.next_due is None, row.next_due or row.started))


async def list_open(
    client: Client,
    filters: QueueFilters | None = None,
    page_size: int | None = None,
    page_token: bytes | None = None,
    *,
    query: str = OPEN_QUERY,
) -> QueuePage:
    """Open inquiries across channels, the most urgent deadline first (none last).

    ``filters`` go into the visibility query. Without ``page_size`` every matching inquiry is
    listed and ordered (one page, no token: the old behaviour). With it, one page of at most
    ``page_size`` from ``page_token`` on: the server pages newest start first and cannot order
    by ``CareNextDue`` (SQL visibility, the dev server's SQLite included, refuses ORDER BY), so
    the nearest due come first within each page, not across pages."""
    if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadQueueRequest(f"the page size must be from 1 to {MAX_PAGE_SIZE}")
    visibility = (filters or QueueFilters()).to_query(query)
    with explained(client):
        if page_size is None:
            rows = [
                row_of(execution, await execution.memo())
                async for execution in client.list_workflows(visibility)
            ]
            return QueuePage(rows=_by_due(rows))
        listing = client.list_workflows(visibility, page_size=page_size, next_page_token=page_token)
        await listing.fetch_next_page()
        rows = [
            row_of(execution, await execution.memo()) for execution in listing.current_page or []
        ]
        return QueuePage(rows=_by_due(rows), next_page_token=listing.next_page_token or None)
