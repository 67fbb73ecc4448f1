"""The proactive-post workflow: a trend's draft waits for a supervisor, then goes out once.

One workflow per trend, segment and period (its id says which: ``proactive-<trend>-<segment>-
<period start>``), so one spike never drafts twice. It tells the approvers (``deliver``, a
notification), then waits for a Temporal update: ``approve`` (optionally with edited text) or
``reject`` with a reason, or for ``wait`` to pass (expired). An approved post goes out through
the channel adapter with the key ``<workflow id>/post``, so a retried attempt never posts twice;
then, if the trend says so, each open inquiry of the topic and segment gets one reply through its
own ``reply`` update (``reply_open_inquiries``), which meets its clocks like any reply.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.types import DELIVER, Delivery, Outbound
    from workflows.proactive_types import (
        PROACTIVE_WORKFLOW,
        REPLY_OPEN_INQUIRIES,
        ApproveRequest,
        ProactiveInput,
        ProactiveState,
        ProactiveStatus,
        RejectRequest,
        ReplyOpenRequest,
        ReplyOpenResult,
    )

POST_TIMEOUT = timedelta(seconds=10)
# A public post matters more than a reply: about ten minutes of retries before it is "failed".
POST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=15,
    non_retryable_error_types=["TemplateRenderError", "EmptyMessage", "DeliveryRejected"],
)
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=6)
REPLIES_TIMEOUT = timedelta(minutes=10)
POST_URLS = {"x": "https://x.com/i/web/status/{id}", "facebook": "https://www.facebook.com/{id}"}


def _rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="ActionRejected", non_retryable=True)


@workflow.defn(name=PROACTIVE_WORKFLOW)
class ProactivePostWorkflow:
    """A draft, a supervisor's decision, and at most one post."""

    @workflow.init
    def __init__(self, input: ProactiveInput) -> None:
        self._input = input
        self._state: ProactiveState = "awaiting"
        self._decided = False
        self._text: str | None = None
        self._by: str | None = None
        self._reason: str | None = None
        self._post: Delivery | None = None
        self._replied = 0

    @workflow.run
    async def run(self, input: ProactiveInput) -> ProactiveStatus:
        wid = workflow.info().workflow_id
        await self._deliver(self._notification(wid), NOTIFY_RETRY, required=False)
        try:
            await workflow.wait_condition(
                lambda: self._decided, timeout=timedelta(seconds=input.wait_seconds)
            )
        except TimeoutError:
            self._state = "expired"
            return self.status()
        if self._state == "rejected":
            return self.status()
        self._post = await self._deliver(self._public_post(wid), POST_RETRY, required=True)
        if self._post is None:
            self._state = "failed"
            return self.status()
        self._state = "posted"
        if input.reply_template:
            await self._reply_to_open_inquiries(wid)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    # ------------------------------------------------------------------ decisions

    @workflow.update
    async def approve(self, request: ApproveRequest) -> ProactiveStatus:
        self._decided = True  # the run posts it next
        self._by = request.by
        self._text = (request.text or self._input.draft).strip()
        await workflow.wait_condition(lambda: self._post is not None or self._state == "failed")
        return self.status()

    @approve.validator
    def _validate_approve(self, request: ApproveRequest) -> None:
        self._check_open(request.by)
        if request.text is not None and not request.text.strip():
            raise _rejected("the edited text is empty: leave it out to post the draft")

    @workflow.update
    def reject(self, request: RejectRequest) -> ProactiveStatus:
        self._decided = True
        self._state = "rejected"
        self._by = request.by
        self._reason = request.reason.strip()
        return self.status()

    @reject.validator
    def _validate_reject(self, request: RejectRequest) -> None:
        self._check_open(request.by)
        if not request.reason.strip():
            raise _rejected("a rejection needs a reason")

    def _check_open(self, by: str) -> None:
        if not by.strip():
            raise _rejected("who decides must be named")
        if self._decided or self._state != "awaiting":
            raise _rejected(f"this draft is {self._state} already: nothing to decide")

    @workflow.query
    def status(self) -> ProactiveStatus:
        i = self._input
        post = self._post
        return ProactiveStatus(
            id=workflow.info().workflow_id,
            trend=i.trend,
            topic=i.topic,
            segment=i.segment,
            status=self._state,
            draft=i.draft,
            text=self._text,
            count=i.count,
            baseline=i.baseline,
            created_at=workflow.info().start_time,
            expires_at=workflow.info().start_time + timedelta(seconds=i.wait_seconds),
            decided_by=self._by,
            reason=self._reason,
            post_id=post.id if post else None,
            post_url=POST_URLS[i.channel].format(id=post.id) if post else None,
            replied=self._replied,
        )

    # ------------------------------------------------------------------ sending

    def _notification(self, wid: str) -> Outbound:
        i = self._input
        text = (
            f"A proactive post waits for approval ({i.trend}: {i.count} inquiries about "
            f"{i.topic} in segment {i.segment}, usually {i.baseline:g}). Draft: {i.draft!r}. "
            f"Approve: careflow proactive approve {wid} [--text TEXT]; reject: careflow "
            f"proactive reject {wid} --reason TEXT. It expires in {i.wait_seconds // 60} min."
        )
        return Outbound(
            key=f"{wid}/notify",
            kind="notification",
            channel="careflow",
            conversation_id="",
            in_reply_to="",
            recipient=i.approvers,
            target=i.approvers,
            target_webhook=i.approvers_webhook,
            text=text,
        )

    def _public_post(self, wid: str) -> Outbound:
        return Outbound(
            key=f"{wid}/post",
            kind="proactive_post",
            channel=self._input.channel,
            conversation_id="",
            in_reply_to="",
            recipient="",
            text=self._text,
            human=True,
        )

    async def _deliver(
        self, outbound: Outbound, retry: RetryPolicy, *, required: bool
    ) -> Delivery | None:
        try:
            delivery: Delivery = await workflow.execute_activity(
                DELIVER,
                outbound,
                result_type=Delivery,
                start_to_close_timeout=POST_TIMEOUT,
                retry_policy=retry,
            )
            return delivery
        except ActivityError as error:
            cause = error.cause.message if isinstance(error.cause, ApplicationError) else error
            if required:
                self._reason = f"could not post: {cause}"
            workflow.logger.warning("proactive %s not delivered: %s", outbound.kind, cause)
            return None

    async def _reply_to_open_inquiries(self, wid: str) -> None:
        i = self._input
        status = self.status()
        variables = {
            **i.variables,
            "trend": {**i.variables.get("trend", {}), "post_url": status.post_url},
        }
        try:
            result = await workflow.execute_activity(
                REPLY_OPEN_INQUIRIES,
                ReplyOpenRequest(
                    key=wid,
                    topic=i.topic,
                    segment=i.segment,
                    template=i.reply_template or "",
                    variables=variables,
                    agent=self._by or "careflow",
                ),
                result_type=ReplyOpenResult,
                start_to_close_timeout=REPLIES_TIMEOUT,
                heartbeat_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
        except ActivityError as error:
            workflow.logger.warning("replies to open inquiries failed: %s", error)
            return
        self._replied = len(result.replied)
