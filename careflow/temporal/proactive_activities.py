"""``reply_open_inquiries``: after an approved proactive post, one reply to each open inquiry of
its topic and segment, through the inquiry's own ``reply`` update (so it meets the inquiry's
clocks, is signed by the approver and delivered with the inquiry's own idempotency key).

Once per inquiry: the update carries the proactive workflow's id as its update id (Temporal
answers a repeated id with the first outcome), and the activity heartbeats the inquiries done,
so a retried attempt starts after them.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from careflow.engine.templates import TemplateRenderError, render_template
from careflow.temporal.inquiries import OPEN_QUERY, quoted
from workflows import search
from workflows.messages import ReplyRequest
from workflows.proactive_types import REPLY_OPEN_INQUIRIES, ReplyOpenRequest, ReplyOpenResult

REPLY_UPDATE = "reply"


def open_inquiries_query(topic: str, segment: str) -> str:
    """The open inquiries a trend's post covers: its topic, in its segment."""
    return (
        f"{OPEN_QUERY} AND {search.TOPICS.name} = {quoted(search.topic_token(topic))} "
        f"AND {search.SEGMENT.name} = {quoted(segment)}"
    )


class ProactiveActivities:
    """Activities that need the Temporal client: bound to the worker's."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=REPLY_OPEN_INQUIRIES)
    async def reply_open_inquiries(self, request: ReplyOpenRequest) -> ReplyOpenResult:
        try:
            text = render_template(request.template, request.variables)
        except TemplateRenderError as error:
            activity.logger.warning("the reply template cannot render: %s", error)
            return ReplyOpenResult(replied=[], skipped=[])
        details = activity.info().heartbeat_details
        done: list[str] = list(details[0]) if details else []
        skipped: list[str] = []
        query = open_inquiries_query(request.topic, request.segment)
        ids = [execution.id async for execution in self.client.list_workflows(query)]
        for inquiry_id in ids:
            if inquiry_id in done:
                continue
            handle = self.client.get_workflow_handle(inquiry_id)
            try:
                await handle.execute_update(
                    REPLY_UPDATE,
                    ReplyRequest(agent=request.agent, text=text),
                    id=request.key,
                )
                done.append(inquiry_id)
            except (WorkflowUpdateFailedError, RPCError) as error:
                skipped.append(inquiry_id)  # closed meanwhile, or refused: nothing to answer
                activity.logger.info("no proactive reply to %s: %s", inquiry_id, error)
            activity.heartbeat(done)
        return ReplyOpenResult(replied=done, skipped=skipped)
