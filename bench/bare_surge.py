"""The surge bench's baseline: an inquiry that is acknowledged at once, written by hand.

careflow's side of ``bench/surge_bench.py`` runs a pack whose ``received`` rules acknowledge
every post straight away (one ``deliver``) after ``load_rules``: two activities, then the inquiry
waits for an agent. This workflow does the same by hand: one activity where careflow loads its
rules, one that posts the acknowledgement, the same search-attribute upserts, then a wait on the
resolve window. What it leaves out (the rule engine, the clocks, the recorded state) is what the
bench's ratio measures.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.types import Outbound, OutboundKind
    from bench.bare_workflow import POST_RETRY, POST_TIMEOUT, BareActivities
    from careflow.engine.post import Inquiry
    from workflows import search

BARE_SURGE_NAME = "BareSurgeInquiry"
RESOLVE_WINDOW = timedelta(hours=4)
ACK_TEXT = "Thanks for reaching out, sorry for the trouble: we're looking into it now."


class BareSurgeInput(BaseModel):
    inquiry: Inquiry


@workflow.defn(name=BARE_SURGE_NAME)
class BareSurgeWorkflow:
    """Open, acknowledge at once, wait for an agent (who never comes in the bench)."""

    @workflow.init
    def __init__(self, input: BareSurgeInput) -> None:
        self._input = input
        self._sequence = 0
        self._resolved = False

    @workflow.run
    async def run(self, input: BareSurgeInput) -> None:
        inquiry = input.inquiry
        await self._post("notification", f"new {inquiry.channel} inquiry {inquiry.id}")
        await self._post("reply", ACK_TEXT)
        workflow.upsert_search_attributes(
            [
                search.CHANNEL.value_set(inquiry.channel),
                search.CATEGORY.value_set("general"),
                search.PRIORITY.value_set("normal"),
                search.QUEUE.value_set("general"),
                search.STEP.value_set("resolve"),
                search.NEXT_DUE.value_set(inquiry.created_at + RESOLVE_WINDOW),
                search.RULESET.value_set("bare"),
            ]
        )
        await workflow.wait_condition(lambda: self._resolved, timeout=RESOLVE_WINDOW)

    @workflow.signal(name="customer_message")
    def customer_message(self, message: object) -> None:
        """The start signal (signal-with-start) carries the post again: nothing to do."""

    async def _post(self, kind: OutboundKind, text: str) -> None:
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
        await workflow.execute_activity_method(
            BareActivities.post,
            outbound,
            start_to_close_timeout=POST_TIMEOUT,
            retry_policy=POST_RETRY,
        )
