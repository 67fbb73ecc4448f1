"""Client-side helpers shared by the CLI (and later the HTTP API): intake, the queue, actions.

Everything that talks to Temporal from outside a worker goes through here, so that every caller
gets the same firehose filter, the same workflow ids, and the same one-line explanation when
Temporal says no (``CareflowError``) instead of a gRPC traceback.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, TemporalError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from careflow.config import Settings
from careflow.engine.ruleset import Ruleset
from careflow.inquiry import Inquiry
from careflow.worker import connect
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import WORKFLOW_NAME, ActionResult, CustomerMessage, InquiryInput
from workflows.state import BrandMessage, InquiryStatus

OPEN_QUERY = f"WorkflowType='{WORKFLOW_NAME}' AND ExecutionStatus='Running'"
MEMO_TEXT_LIMIT = 280
# Without a worker a query or an update waits for one; a person at a terminal should not.
QUERY_TIMEOUT = 15.0
# An action may deliver a message, whose retries take up to about a minute.
ACTION_TIMEOUT = 90.0

Action = UpdateMethodMultiParam[[InquiryWorkflow, Any], ActionResult]


class CareflowError(Exception):
    """Something a person can act on, said in one line (the CLI prints ``error: <it>``)."""


def workflow_id(inquiry: Inquiry) -> str:
    """One workflow per conversation: later posts and redeliveries reach the same one."""
    return f"inquiry-{inquiry.channel}-{inquiry.conversation_id}"


def explain_error(error: BaseException, inquiry_id: str | None, address: str) -> str | None:
    """The one-line meaning of a Temporal error, or None when it is not one we understand."""
    what = f"inquiry {inquiry_id}" if inquiry_id else "the inquiry"
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return cause.message if isinstance(cause, ApplicationError) else str(cause)
    if isinstance(error, WorkflowQueryFailedError):
        return error.message
    if isinstance(error, WorkflowQueryRejectedError):
        return f"{what} cannot answer now (status {error.status})"
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        return f"{what} did not answer in time: is a careflow worker running?"
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            if "already completed" in error.message:
                return f"{what} is closed"
            return f"no inquiry with id {inquiry_id}" if inquiry_id else error.message
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return unreachable(address)
        return f"Temporal refused: {error.message}"
    if isinstance(error, RuntimeError) and str(error).startswith("Failed client connect"):
        return unreachable(address)
    return None


def unreachable(address: str) -> str:
    return f"cannot reach Temporal at {address} (is `careflow up` running?)"


def address_of(client: Client) -> str:
    return client.service_client.config.target_host


@contextmanager
def explained(client: Client | None, inquiry_id: str | None = None) -> Iterator[None]:
    """Turn the Temporal errors we understand into ``CareflowError``; let the others through."""
    try:
        yield
    except (TemporalError, RuntimeError, TimeoutError) as error:
        message = explain_error(error, inquiry_id, address_of(client) if client else "?")
        if message is None:
            raise
        raise CareflowError(message) from error


async def open_client(settings: Settings) -> Client:
    """Connect with careflow's data converter, or say plainly that Temporal is not there."""
    try:
        return await connect(settings)
    except RuntimeError as error:
        message = explain_error(error, None, settings.temporal_address)
        raise CareflowError(message or str(error)) from error


# ---------------------------------------------------------------------- intake


class IntakeResult(BaseModel):
    """What intake did: started (or reached) a workflow, or dropped the post at the door."""

    workflow_id: str | None
    dropped: bool = False
    duplicate: bool = False  # a redelivery of a post the conversation's closed inquiry handled
    continued: bool = False  # a private message that went to the customer's open public inquiry
    reason: str | None = None
    rule: str | None = None


def first_message(inquiry: Inquiry) -> CustomerMessage:
    """The post as a customer message: a redelivery or a later post is one signal away."""
    return CustomerMessage(
        id=inquiry.id, text=inquiry.text, private=inquiry.kind == "private", at=inquiry.created_at
    )


def memo_of(inquiry: Inquiry) -> dict[str, Any]:
    """What the queue shows without querying each workflow."""
    memo: dict[str, Any] = {
        "channel": inquiry.channel,
        "author": inquiry.author.handle,
        "text": inquiry.text[:MEMO_TEXT_LIMIT],
    }
    if inquiry.url:
        memo["url"] = inquiry.url
    return memo


def firehose(inquiry: Inquiry, ruleset: Ruleset) -> IntakeResult | None:
    """The ``received`` rules at the door: the result for a dropped post, else None. Needs no
    Temporal, so spam is turned away even while the server is down."""
    decision = ruleset.evaluate("received", inquiry, explain=False)
    if not decision.dropped:
        return None
    rule = decision.fired[-1] if decision.fired else None
    return IntakeResult(workflow_id=None, dropped=True, reason=decision.drop_reason, rule=rule)


async def intake(
    client: Client,
    settings: Settings,
    inquiry: Inquiry,
    ruleset: Ruleset,
    rules_path: str | None = None,
    filtered: bool = False,
) -> IntakeResult:
    """The firehose filter (unless ``filtered``: the caller ran it), then signal-with-start on the
    conversation's workflow.

    A post the ``received`` rules drop starts nothing. Otherwise the workflow starts with the
    post, or, when the conversation already has a running one, the post reaches it as a customer
    message (the workflow records a redelivered message id once).
    """
    if not filtered:
        dropped = firehose(inquiry, ruleset)
        if dropped is not None:
            return dropped
    wid = workflow_id(inquiry)
    customer = customer_key(inquiry.channel, inquiry.author.id)
    if inquiry.kind == "private" and customer is not None:
        invited_by = await _open_public_inquiry(client, customer, wid)
        if invited_by is not None:
            await send_customer_message(client, invited_by, first_message(inquiry))
            return IntakeResult(workflow_id=invited_by, continued=True)
    attributes = TypedSearchAttributes(
        [SearchAttributePair(search.CUSTOMER, customer)] if customer is not None else []
    )

    async def signal_with_start(reuse: WorkflowIDReusePolicy) -> None:
        await client.start_workflow(
            InquiryWorkflow.run,
            InquiryInput(inquiry=inquiry, rules_path=rules_path),
            id=wid,
            task_queue=settings.task_queue,
            id_reuse_policy=reuse,
            start_signal="customer_message",
            start_signal_args=[first_message(inquiry)],
            memo=memo_of(inquiry),
            search_attributes=attributes,
        )

    with explained(client, wid):
        try:
            await signal_with_start(WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            # The conversation's last inquiry is closed. A redelivery of a post it already
            # handled must not open it again (a second safety-net reply); a new post does.
            if await _handled_by_closed_run(client, wid, inquiry.id):
                return IntakeResult(workflow_id=wid, duplicate=True)
            await signal_with_start(WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    return IntakeResult(workflow_id=wid)


# A platform's public and private channels that share the customer's id (page-scoped on Meta).
CUSTOMER_FAMILY = {"messenger": "facebook"}
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,200}$")


def customer_key(channel: str, person: str) -> str | None:
    """``<platform>:<person's id>``: the same person in a public thread and in a DM (None when
    the id could not be used safely in a visibility query)."""
    key = f"{CUSTOMER_FAMILY.get(channel, channel)}:{person}"
    return key if SAFE_KEY.match(key) else None


async def _open_public_inquiry(client: Client, customer: str, own_id: str) -> str | None:
    """The customer's latest open inquiry elsewhere on the platform, when a DM should continue
    it (the answer to an invitation to DM); None when the DM's own conversation is already open
    or there is nothing to continue."""
    query = f"{OPEN_QUERY} AND {search.CUSTOMER.name} = '{customer}'"
    found: list[tuple[datetime, str]] = []
    with explained(client):
        async for execution in client.list_workflows(query):
            if execution.id == own_id:
                return None
            found.append((execution.start_time, execution.id))
    return max(found)[1] if found else None


async def _handled_by_closed_run(client: Client, wid: str, post_id: str) -> bool:
    """Whether the conversation's latest closed inquiry already recorded message ``post_id``."""
    try:
        async with asyncio.timeout(QUERY_TIMEOUT):
            result = await client.get_workflow_handle_for(InquiryWorkflow.run, wid).result()
    except (WorkflowFailureError, TimeoutError):
        return False  # failed or terminated: nobody answered, a new inquiry is right
    return post_id == result.status.inquiry.id or any(
        message.id == post_id for message in result.status.messages
    )


# ---------------------------------------------------------------------- one inquiry


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
                    # Right after submit the rules may still be loading: a moment, not an error.
                    if "still starting" not in error.message:
                        raise
                await asyncio.sleep(0.2)


async def act(client: Client, inquiry_id: str, action: Action, request: BaseModel) -> ActionResult:
    """Run an agent action (an Update); a rejection becomes the validator's sentence."""
    with explained(client, inquiry_id):
        async with asyncio.timeout(ACTION_TIMEOUT):
            return await handle(client, inquiry_id).execute_update(action, request)


async def record_brand_post(client: Client, echo: Inquiry) -> str | None:
    """The brand's own post or DM (an echo) to its conversation's open inquiry, as an agent
    message; a DM goes to the inquiry it continues. The inquiry's id, or None when the
    conversation has no open inquiry (nothing to record it on)."""
    message = BrandMessage(
        id=echo.id,
        text=echo.text,
        private=echo.kind == "private",
        at=echo.created_at,
        by=echo.author.handle,
    )
    target = workflow_id(echo)
    # A private conversation is keyed by the customer: their DM may continue a public inquiry.
    customer = customer_key(echo.channel, echo.conversation_id)
    if echo.kind == "private" and customer is not None:
        target = await _open_public_inquiry(client, customer, target) or target
    with explained(client, target):
        try:
            await handle(client, target).signal(InquiryWorkflow.brand_message, message)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None  # no inquiry open on this conversation
            raise
    return target


async def send_customer_message(client: Client, inquiry_id: str, message: CustomerMessage) -> None:
    with explained(client, inquiry_id):
        await handle(client, inquiry_id).signal(InquiryWorkflow.customer_message, message)


# ---------------------------------------------------------------------- the queue


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


# ---------------------------------------------------------------------- cluster setup


class SearchAttributeSetup(BaseModel):
    """What ``careflow setup`` found and did on a namespace."""

    added: list[str]
    present: list[str]
    conflicts: list[str]  # registered with another type: queries on them will not work


def _type_name(value: int) -> str:
    name = IndexedValueType.Name(IndexedValueType.ValueType(value))
    return name.removeprefix("INDEXED_VALUE_TYPE_").title().replace("_", "")


async def register_search_attributes(client: Client, namespace: str) -> SearchAttributeSetup:
    """Register careflow's search attributes on ``namespace``, skipping those already there."""
    with explained(client):
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = {**listed.system_attributes, **listed.custom_attributes}
        missing = {k.name: k for k in search.ALL_KEYS if k.name not in existing}
        present = [k.name for k in search.ALL_KEYS if k.name in existing]
        conflicts = [
            f"{k.name} is registered as {_type_name(existing[k.name])}, careflow needs "
            f"{_type_name(k.indexed_value_type)}"
            for k in search.ALL_KEYS
            if k.name in existing and existing[k.name] != int(k.indexed_value_type)
        ]
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace,
                    search_attributes={
                        name: IndexedValueType.ValueType(key.indexed_value_type)
                        for name, key in missing.items()
                    },
                )
            )
    return SearchAttributeSetup(added=list(missing), present=present, conflicts=conflicts)
