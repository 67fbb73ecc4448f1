"""The workflow bench's baseline: the bench's inquiry written by hand, with no rule engine.

It has the same conversation as careflow's bench scenario (see ``bench/workflow_bench.py``): a
first activity when the inquiry starts (careflow's ``load_rules``), a wait on the acknowledge
window that the agent's ``reply`` ends (its post is one activity), a wait on the resolve window
that ``resolve`` ends, the follow-up timer, the follow-up post, and the silent wait that closes
the inquiry. That is the same activity calls, timers, signal, updates and search-attribute
upserts as careflow spends on that scenario; the bench prints both histories' counts side by
side. Posts go through careflow's own sandbox adapter, so the I/O per activity is the same.

What it leaves out is exactly what the bench measures: the rule file, its evaluation on every
event, the clocks, the large pydantic state, the timeline and the status in the result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.adapters.sandbox import SandboxAdapter
    from activities.types import Delivery, Outbound, OutboundKind
    from careflow.engine.post import Inquiry
    from workflows import search
    from workflows.messages import ActionResult, CustomerMessage, ReplyRequest, ResolveRequest

BARE_WORKFLOW_NAME = "BareInquiry"
# The default pack's standard windows: the bench's agent always answers well before them.
ACKNOWLEDGE_WINDOW = timedelta(minutes=30)
RESOLVE_WINDOW = timedelta(hours=4)
POST_TIMEOUT = timedelta(seconds=30)
POST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
)
CLOSED_SILENT = "no answer to the follow-up"


class BareInput(BaseModel):
    """The inquiry and the follow-up timers, in seconds (the pack's ``after`` and ``wait``)."""

    inquiry: Inquiry
    follow_up_after: float
    follow_up_wait: float
    search_attributes: bool = True


class BareResult(BaseModel):
    """How the inquiry ended, and what was posted."""

    reason: str
    resolution_code: str | None
    customer_messages: int
    posted: list[str]


class BareActivities:
    """One activity, ``bare_post``: append the text through careflow's sandbox adapter."""

    def __init__(self, adapter: SandboxAdapter) -> None:
        self.adapter = adapter

    @activity.defn(name="bare_post")
    async def post(self, outbound: Outbound) -> Delivery:
        return await self.adapter.deliver(outbound, outbound.text or "")


def _rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="ActionRejected", non_retryable=True)


@workflow.defn(name=BARE_WORKFLOW_NAME)
class BareInquiryWorkflow:
    """Open, wait for the agent's reply, wait for the resolution, follow up, close on silence."""

    @workflow.init
    def __init__(self, input: BareInput) -> None:
        self._input = input
        self._started = False
        self._seen: dict[str, None] = {input.inquiry.id: None}
        self._messages: list[CustomerMessage] = []
        self._agent: str | None = None
        self._replied = False
        self._resolved = False
        self._closed = False
        self._code: str | None = None
        self._sequence = 0
        self._posted: list[str] = []

    @workflow.run
    async def run(self, input: BareInput) -> BareResult:
        # careflow's first activity loads the rule file; here the opening is simply posted.
        await self._post("notification", f"new {input.inquiry.channel} inquiry {input.inquiry.id}")
        self._started = True
        self._upsert(
            [
                search.CHANNEL.value_set(input.inquiry.channel),
                search.CATEGORY.value_set("general"),
                search.PRIORITY.value_set("normal"),
                search.QUEUE.value_set("general"),
                search.STEP.value_set("acknowledge"),
                search.NEXT_DUE.value_set(input.inquiry.created_at + ACKNOWLEDGE_WINDOW),
                search.RULESET.value_set("bare"),
            ]
        )
        await self._until(lambda: self._replied, ACKNOWLEDGE_WINDOW)
        await self._until(lambda: self._resolved, RESOLVE_WINDOW)
        await workflow.sleep(timedelta(seconds=input.follow_up_after))
        await self._post("follow_up", "Is everything sorted?")
        await workflow.sleep(timedelta(seconds=input.follow_up_wait))
        self._closed = True
        self._upsert([search.STEP.value_set("closed")])
        return BareResult(
            reason=CLOSED_SILENT,
            resolution_code=self._code,
            customer_messages=len(self._messages),
            posted=self._posted,
        )

    @workflow.signal(name="customer_message")
    def customer_message(self, message: CustomerMessage) -> None:
        if message.id not in self._seen:
            self._seen[message.id] = None
            self._messages.append(message)

    @workflow.update
    async def reply(self, request: ReplyRequest) -> ActionResult:
        await workflow.wait_condition(lambda: self._started)
        agent = request.agent.strip()
        self._agent = self._agent or agent
        delivery = await self._post("reply", f"{request.text.strip()} ^{agent}")
        self._replied = True
        self._upsert(
            [
                search.STEP.value_set("resolve"),
                search.AGENT.value_set(self._agent),
                search.NEXT_DUE.value_set(workflow.now() + RESOLVE_WINDOW),
            ]
        )
        return ActionResult(step="resolve", detail="replied", text=delivery.text)

    @reply.validator
    def _validate_reply(self, request: ReplyRequest) -> None:
        self._check_open(request.agent)
        if not request.text.strip():
            raise _rejected("the reply is empty: write the text to send")

    @workflow.update
    async def resolve(self, request: ResolveRequest) -> ActionResult:
        await workflow.wait_condition(lambda: self._started)
        self._code = request.code.strip()
        self._resolved = True
        self._upsert([search.STEP.value_set("follow_up"), search.NEXT_DUE.value_unset()])
        return ActionResult(step="follow_up", detail=f"resolved with code {self._code}")

    @resolve.validator
    def _validate_resolve(self, request: ResolveRequest) -> None:
        self._check_open(request.agent)
        if self._resolved:
            raise _rejected("the inquiry is already resolved")
        if not request.code.strip():
            raise _rejected("a resolution code is required")

    def _check_open(self, agent: str) -> None:
        if not agent.strip():
            raise _rejected("say which agent is acting (agent is empty)")
        if self._closed:
            raise _rejected("the inquiry is closed")

    async def _until(self, done: Callable[[], bool], window: timedelta) -> None:
        """Wait for ``done``, at most ``window`` (a timer the agent's action cancels)."""
        if done():
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(done, timeout=window)

    async def _post(self, kind: OutboundKind, text: str) -> Delivery:
        self._sequence += 1
        inquiry = self._input.inquiry
        outbound = Outbound(
            key=f"{workflow.info().workflow_id}/{self._sequence}",
            kind=kind,
            channel=inquiry.channel,
            conversation_id=inquiry.conversation_id,
            in_reply_to=inquiry.id,
            recipient=inquiry.author.handle,
            text=text,
        )
        delivery = await workflow.execute_activity_method(
            BareActivities.post,
            outbound,
            start_to_close_timeout=POST_TIMEOUT,
            retry_policy=POST_RETRY,
        )
        self._posted.append(delivery.text)
        return delivery

    def _upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        if self._input.search_attributes:
            workflow.upsert_search_attributes(updates)
