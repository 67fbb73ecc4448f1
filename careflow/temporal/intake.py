"""Posts in: the firehose filter, then signal-with-start on the conversation's workflow.

Every door (the CLI's ``submit``, the webhook intake) goes through here, so every caller gets the
same filter, the same workflow ids, and the same one-line errors.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import (
    Priority,
    QueryRejectCondition,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from careflow.channels.common import Change, Feedback
from careflow.engine.messenger_feedback import answer_text
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Decision, Ruleset
from careflow.temporal.customers import SAFE_KEY, CustomerId, CustomerIds
from careflow.temporal.explain import explained
from careflow.temporal.inquiries import OPEN_QUERY, QUERY_TIMEOUT, handle
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import CustomerMessage, InquiryInput
from workflows.state import BrandMessage, InquiryStatus, MessageChange

log = logging.getLogger("careflow.temporal.intake")
MEMO_TEXT_LIMIT = 280
# Memos live in visibility for every open inquiry: bounded, however long a payload's fields are.
MEMO_AUTHOR_LIMIT = 100  # handles and display names are far shorter on every platform
MEMO_URL_LIMIT = 2048
# How long the intake waits for the open inquiry to say whether it has a post already: a
# delivery should not wait on a worker that is not there.
SEEN_TIMEOUT = timedelta(seconds=2)

# Temporal's task priority (1 first, 3 when unset, 5 last): under a backlog a worker takes an
# urgent inquiry's workflow and activity tasks (they inherit the workflow's key) before
# hundreds of ordinary ones.
PRIORITY_KEYS = {"urgent": 1, "high": 2, "normal": 3, "low": 4}
# An author this many followers strong is a PR risk whatever the rules say: at least "high".
HIGH_REACH_FOLLOWERS = search.HIGH_REACH_FOLLOWERS
HIGH_REACH_KEY = PRIORITY_KEYS["high"]
# A tweet belongs to one inquiry; a few candidates at most (a race, an old-keyed twin).
THREAD_CANDIDATES = 10
X_USER_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")  # X's are digits: a short, URL-safe suffix


def workflow_id(inquiry: Inquiry, in_reply_to: str | None = None) -> str:
    """One workflow per conversation: later posts and redeliveries reach the same one.

    On X a thread is everyone's: two customers answering one brand tweet share its
    ``conversation_id``. So a public X post that replies inside a thread (``in_reply_to``: the
    tweet it answers, as X's webhook says) starts the inquiry of *this customer* in it,
    ``inquiry-x-<thread>.<author id>``: their second reply to the same tweet reaches it with no
    lookup. A tweet that starts a thread, and a post from another door (whose conversation id
    is the caller's to choose), keep ``inquiry-<channel>-<conversation>``. A reply to a tweet of
    an open inquiry joins that inquiry instead (``thread_inquiry``)."""
    if (
        in_reply_to is not None
        and inquiry.channel == "x"
        and inquiry.kind == "public"
        and inquiry.conversation_id != inquiry.id
        and X_USER_ID.match(inquiry.author.id)
    ):
        return f"inquiry-x-{inquiry.conversation_id}.{inquiry.author.id}"
    return legacy_workflow_id(inquiry)


def legacy_workflow_id(inquiry: Inquiry) -> str:
    """The id every inquiry had before X conversations were keyed per customer; inquiries
    opened then still answer to it."""
    return f"inquiry-{inquiry.channel}-{inquiry.conversation_id}"


class IntakeResult(BaseModel):
    """What intake did: started (or reached) a workflow, or dropped the post at the door."""

    workflow_id: str | None
    dropped: bool = False
    duplicate: bool = False  # a redelivery of a post the conversation's inquiry already has
    # A private message that went to the customer's open public inquiry, or a reply to one of
    # the tweets of their open X inquiry.
    continued: bool = False
    reason: str | None = None
    rule: str | None = None


def first_message(inquiry: Inquiry) -> CustomerMessage:
    """The post as a customer message: a redelivery or a later post is one signal away."""
    return CustomerMessage(
        id=inquiry.id,
        text=inquiry.text,
        private=inquiry.kind == "private",
        at=inquiry.created_at,
        attachments=list(inquiry.attachments),
    )


def memo_of(inquiry: Inquiry) -> dict[str, Any]:
    """What the queue shows without querying each workflow."""
    memo: dict[str, Any] = {
        "channel": inquiry.channel,
        "author": inquiry.author.handle[:MEMO_AUTHOR_LIMIT],
        "text": inquiry.text[:MEMO_TEXT_LIMIT],
    }
    if inquiry.url and len(inquiry.url) <= MEMO_URL_LIMIT:  # a cut link is no link: left out
        memo["url"] = inquiry.url
    return memo


def priority_key(priority: str, followers: int) -> int:
    """The task priority key of an inquiry: the rules' priority, raised to at least "high" for
    a high-reach author."""
    key = PRIORITY_KEYS.get(priority, PRIORITY_KEYS["normal"])
    return min(key, HIGH_REACH_KEY) if followers >= HIGH_REACH_FOLLOWERS else key


def task_priority(key: int) -> Priority:
    """``Priority`` for a key; the default (unset) for normal inquiries, as before."""
    return Priority.default if key == PRIORITY_KEYS["normal"] else Priority(priority_key=key)


@dataclass(frozen=True)
class Triage:
    """The ``received`` rules' verdict at the door: dropped (with why), or the task priority
    key to start the inquiry at. The webhook intake triages a whole delivery first and starts
    its posts after, handing each its ``Triage`` so the rules run once per post."""

    dropped: IntakeResult | None
    priority_key: int
    # The whole decision, for ``careflow intake explain`` (category, queue, priority…).
    decision: Decision | None = field(default=None, compare=False, repr=False)


def triage(inquiry: Inquiry, ruleset: Ruleset) -> Triage:
    """The ``received`` rules once: dropped or not, and the post's priority key."""
    decision = ruleset.evaluate("received", inquiry, explain=False, bounded=True)
    key = priority_key(decision.values.priority, inquiry.author.followers or 0)
    return Triage(_dropped(decision), key, decision)


def insight_pairs(
    inquiry: Inquiry, ruleset: Ruleset, verdict: Triage
) -> list[SearchAttributePair[Any]]:
    """CareSegment and CareTopics at start: countable by ``careflow insights`` from the first
    moment, and the sign for the workflow that it should keep them current."""
    values = verdict.decision.values if verdict.decision is not None else ruleset.defaults
    pairs: list[SearchAttributePair[Any]] = [SearchAttributePair(search.SEGMENT, values.segment)]
    topics = search.topics_text(ruleset.topics_of(inquiry, values))
    if topics:
        pairs.append(SearchAttributePair(search.TOPICS, topics))
    return pairs


def _dropped(decision: Decision) -> IntakeResult | None:
    if not decision.dropped:
        return None
    rule = decision.fired[-1] if decision.fired else None
    return IntakeResult(workflow_id=None, dropped=True, reason=decision.drop_reason, rule=rule)


def firehose(inquiry: Inquiry, ruleset: Ruleset) -> IntakeResult | None:
    """The ``received`` rules at the door: the result for a dropped post, else None. Needs no
    Temporal, so spam is turned away even while the server is down."""
    return triage(inquiry, ruleset).dropped


async def triage_off_loop(inquiry: Inquiry, ruleset: Ruleset) -> Triage:
    """``triage`` in a worker thread: a huge post's rules take a while, and meanwhile the event
    loop keeps answering every other request."""
    return await asyncio.to_thread(triage, inquiry, ruleset)


async def intake(
    client: Client,
    task_queue: str,
    inquiry: Inquiry,
    ruleset: Ruleset,
    rules_path: str | None = None,
    triaged: Triage | None = None,
    in_reply_to: str | None = None,
    *,
    customers: CustomerIds,
) -> IntakeResult:
    """The firehose filter (unless ``triaged``: the caller ran it), then signal-with-start on the
    conversation's workflow.

    A post the ``received`` rules drop starts nothing. Otherwise the workflow starts with the
    post, at the task priority its rules and its author's reach give it (``priority_key``), or,
    when the conversation already has a running one, the post reaches it as a customer message
    (the workflow records a redelivered message id once; its priority stays). An X reply to a
    tweet of the customer's open inquiry (``in_reply_to``: the tweet it answers) joins it.
    ``customers`` hashes the author's id into ``CareCustomer`` (``careflow.temporal.customers``).
    """
    verdict = triaged or await triage_off_loop(inquiry, ruleset)
    if verdict.dropped is not None:
        return verdict.dropped
    key = verdict.priority_key
    wid = workflow_id(inquiry, in_reply_to)
    customer = customers.of(inquiry.channel, inquiry.author.id)
    if inquiry.kind == "private" and customer is not None:
        invited_by = await _open_public_inquiry(client, customer, wid)
        if invited_by is not None:
            await send_customer_message(client, invited_by, first_message(inquiry))
            return IntakeResult(workflow_id=invited_by, continued=True)
    joined = None
    if customer is not None and wid != legacy_workflow_id(inquiry):
        joined = await thread_inquiry(
            client,
            [in_reply_to or inquiry.conversation_id, inquiry.conversation_id],
            customer=customer,
            legacy=legacy_workflow_id(inquiry),
        )
        wid = joined or wid
    pairs: list[SearchAttributePair[Any]] = []
    if customer is not None:
        pairs.append(SearchAttributePair(search.CUSTOMER, customer.stored))
    if inquiry.channel == "x":  # findable by its first tweet before the workflow runs
        pairs.append(SearchAttributePair(search.THREAD, [inquiry.id]))
    pairs += insight_pairs(inquiry, ruleset, verdict)
    reach = (inquiry.author.followers or 0) >= search.HIGH_REACH_FOLLOWERS
    pairs.append(SearchAttributePair(search.HIGH_REACH, reach))  # the supervisor view counts it
    attributes = TypedSearchAttributes(pairs)

    async def signal_with_start(reuse: WorkflowIDReusePolicy) -> None:
        await client.start_workflow(
            InquiryWorkflow.run,
            InquiryInput(inquiry=inquiry, rules_path=rules_path),
            id=wid,
            task_queue=task_queue,
            id_reuse_policy=reuse,
            start_signal="customer_message",
            start_signal_args=[first_message(inquiry)],
            memo=memo_of(inquiry),
            search_attributes=attributes,
            priority=task_priority(key),
        )

    with explained(client, wid):
        # Asked first: once the signal is in, a new post and a redelivery look the same.
        seen = await _seen_by_open_run(client, wid, inquiry.id)
        try:
            await signal_with_start(WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            # The conversation's last inquiry is closed. A redelivery of a post it already
            # handled must not open it again (a second safety-net reply); a new post does.
            if await _handled_by_closed_run(client, wid, inquiry.id):
                return IntakeResult(workflow_id=wid, duplicate=True)
            await signal_with_start(WorkflowIDReusePolicy.ALLOW_DUPLICATE)
            seen, joined = False, None
    # A redelivery still reaches the open inquiry, which counts it and changes nothing else.
    return IntakeResult(workflow_id=wid, duplicate=seen, continued=bool(joined) and not seen)


async def _open_public_inquiry(client: Client, customer: CustomerId, own_id: str) -> str | None:
    """The customer's latest open inquiry elsewhere on the platform, when a DM should continue
    it (the answer to an invitation to DM); None when the DM's own conversation is already open
    or there is nothing to continue."""
    query = f"{OPEN_QUERY} AND {customer.clause}"
    found: list[tuple[datetime, str]] = []
    with explained(client):
        async for execution in client.list_workflows(query):
            if execution.id == own_id:
                return None
            found.append((execution.start_time, execution.id))
    return max(found)[1] if found else None


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


async def thread_inquiry(
    client: Client, tweets: list[str], *, customer: CustomerId | None, legacy: str | None
) -> str | None:
    """The open X inquiry one of ``tweets`` belongs to (its ``CareThread``), or the one keyed
    ``legacy`` (opened before threads were listed); only ``customer``'s when given. None when
    there is none, or visibility cannot say (an id it cannot take, an attribute not registered:
    the post then starts its own inquiry rather than being refused)."""
    tweets = list(dict.fromkeys(t for t in tweets if SAFE_KEY.match(t)))
    clauses = [f"{search.THREAD.name} IN ({_quoted(tweets)})"] if tweets else []
    if legacy is not None and SAFE_KEY.match(legacy):
        clauses.append(f"WorkflowId = '{legacy}'")
    if not clauses:
        return None
    query = f"{OPEN_QUERY} AND ({' OR '.join(clauses)})"
    if customer is not None:
        query += f" AND {customer.clause}"
    found: list[tuple[datetime, str]] = []
    try:
        with explained(client):
            async for execution in client.list_workflows(query, limit=THREAD_CANDIDATES):
                found.append((execution.start_time, execution.id))
    except RPCError as error:
        if error.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        log.warning("the X thread lookup was refused (is CareThread registered?): %s", error)
        return None
    return max(found)[1] if found else None


async def _seen_by_open_run(client: Client, wid: str, post_id: str) -> bool:
    """Whether the conversation's open inquiry already has message ``post_id`` (its status
    query). False when there is none, or no worker answers within ``SEEN_TIMEOUT``: then a
    redelivery is taken for a new post, and the workflow still records it only once."""
    try:
        status = await handle(client, wid).query(
            InquiryWorkflow.status,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=SEEN_TIMEOUT,
        )
    except (RPCError, WorkflowQueryRejectedError, WorkflowQueryFailedError):
        return False  # no such workflow, closed, still starting, or no worker in time
    return _recorded(status, post_id)


def _recorded(status: InquiryStatus, post_id: str) -> bool:
    return post_id == status.inquiry.id or any(message.id == post_id for message in status.messages)


async def _handled_by_closed_run(client: Client, wid: str, post_id: str) -> bool:
    """Whether the conversation's latest closed inquiry already recorded message ``post_id``."""
    try:
        async with asyncio.timeout(QUERY_TIMEOUT):
            result = await client.get_workflow_handle_for(InquiryWorkflow.run, wid).result()
    except (WorkflowFailureError, TimeoutError):
        return False  # failed or terminated: nobody answered, a new inquiry is right
    return _recorded(result.status, post_id)


async def record_brand_post(
    client: Client, echo: Inquiry, in_reply_to: str | None = None, *, customers: CustomerIds
) -> str | None:
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
    target = legacy_workflow_id(echo)
    # A private conversation is keyed by the customer: their DM may continue a public inquiry.
    customer = customers.of(echo.channel, echo.conversation_id)
    if echo.kind == "private" and customer is not None:
        target = await _open_public_inquiry(client, customer, target) or target
    elif echo.channel == "x" and echo.kind == "public":
        # The brand answered a tweet: the inquiry holding that tweet, else one keyed the old way.
        replied = [in_reply_to or echo.conversation_id]
        target = await thread_inquiry(client, replied, customer=None, legacy=None) or target
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


async def record_change(client: Client, change: Change, *, customers: CustomerIds) -> str | None:
    """A customer's edit or unsent message to the open inquiry of its conversation, found as
    their messages are (a DM's may have continued their public inquiry). The inquiry's id, or
    None when the conversation has no open inquiry (nothing to change)."""
    target = f"inquiry-{change.channel}-{change.conversation_id}"
    customer = customers.of(change.channel, str(change.author.get("id", "")))
    if change.private and customer is not None:
        target = await _open_public_inquiry(client, customer, target) or target
    signal = MessageChange(id=change.id, kind=change.kind, at=change.at, text=change.text)
    with explained(client, target):
        try:
            await handle(client, target).signal(InquiryWorkflow.message_change, signal)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
    return target


def feedback_message(feedback: Feedback) -> CustomerMessage:
    """A customer's answer to the customer-feedback template as their message: the rating as
    it is, and as text (``4/5 …``) for the conversation and for workers that predate it."""
    return CustomerMessage(
        id=feedback.id,
        text=answer_text(feedback.answer),
        private=True,
        at=feedback.at,
        rating=feedback.answer,
    )


async def record_feedback(
    client: Client, feedback: Feedback, *, customers: CustomerIds
) -> str | None:
    """A customer's rating from Messenger's customer-feedback template to the open inquiry of
    their conversation, found as their messages are (a DM may continue their public inquiry).
    The inquiry's id, or None when none is open (a rating starts nothing)."""
    target = f"inquiry-{feedback.channel}-{feedback.conversation_id}"
    customer = customers.of(feedback.channel, feedback.conversation_id)
    if customer is not None:
        target = await _open_public_inquiry(client, customer, target) or target
    with explained(client, target):
        try:
            await handle(client, target).signal(
                InquiryWorkflow.customer_message, feedback_message(feedback)
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
    return target
