"""As an inquiry closes: whether the rule file's ``qa.sampling`` picks it, and if so its review
workflow started (``workflows.qa``), which outlives the inquiry (parent close policy abandon).

Behind the ``qa-review`` patch, asked only when the rule file has ``qa:``, so recorded
inquiries without one replay as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError  # a replayed start
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from careflow.engine.durations import parse_duration
    from careflow.engine.qa import sampling_reasons
    from careflow.engine.ruleset import Ruleset
    from workflows import search
    from workflows.qa import Criterion, QaReviewInput, QaReviewWorkflow
    from workflows.state import InquiryState

QA_PATCH = "qa-review"


def review_id() -> str:
    """The review of this inquiry: ``qa-<its first run id>``, unique to the inquiry (a
    conversation's next inquiry reuses the workflow id, never the first run) and the same on
    replay, whatever id the history is replayed under. The inquiry records it (``review_id``)."""
    return f"qa-{workflow.info().first_execution_run_id}"


async def start_review(
    state: InquiryState,
    ruleset: Ruleset,
    closing: dict[str, Any],
    closed_at: datetime,
    *,
    search_attributes: bool,
) -> str | None:
    """Start the review when the inquiry is sampled; a line for the timeline, or None."""
    qa = ruleset.rule_file.qa
    if qa is None or not workflow.patched(QA_PATCH):
        return None
    workflow_id = workflow.info().workflow_id
    extra = {"step": "closed", "agent.name": state.agent, "reopens": state.reopens, **closing}
    reasons = sampling_reasons(ruleset, state.inquiry, state.values.values(), extra, workflow_id)
    if not reasons:
        return None
    review = QaReviewInput(
        inquiry_id=workflow_id,
        agent=state.agent,
        channel=state.inquiry.channel,
        category=state.values.category,
        closed_at=closed_at,
        reasons=reasons,
        rubric_version=qa.rubric.version,
        criteria={
            name: Criterion(scale=c.scale, description=c.description)
            for name, c in qa.rubric.criteria.items()
        },
        dispute_within_seconds=int(parse_duration(qa.dispute_within).total_seconds()),
        search_attributes=search_attributes,
    )
    pairs = [
        SearchAttributePair(search.CHANNEL, state.inquiry.channel),
        SearchAttributePair(search.CATEGORY, state.values.category),
        SearchAttributePair(search.QUEUE, state.values.queue),
        SearchAttributePair(search.REVIEW, "waiting"),
    ]
    if state.agent:
        pairs.append(SearchAttributePair(search.AGENT, state.agent))
    attributes = TypedSearchAttributes(pairs)
    try:
        await workflow.start_child_workflow(
            QaReviewWorkflow.run,
            review,
            id=review_id(),
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=attributes if search_attributes else None,
            memo={"inquiry": workflow_id},
        )
    except WorkflowAlreadyStartedError:
        return None
    state.review_id = review_id()
    return f"sampled for quality review {state.review_id} ({'; '.join(reasons)})"
