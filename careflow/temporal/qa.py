"""Quality reviews from outside a worker: the review queue (visibility), one review (its query
or result), and the reviewer's, agent's and supervisor's steps (Updates)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from careflow.errors import CareflowError
from careflow.temporal.explain import explained
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.qa import (
    REVIEW_WORKFLOW,
    DisputeRequest,
    QaReview,
    QaReviewWorkflow,
    ScoreRequest,
    SettleRequest,
)

QUEUE_QUERY = f"WorkflowType='{REVIEW_WORKFLOW}' AND ExecutionStatus='Running'"


class QueuedReview(BaseModel):
    """One line of the review queue, from search attributes (no query needed)."""

    id: str
    inquiry_id: str
    agent: str | None
    channel: str | None
    category: str | None
    status: str | None


async def review_of(client: Client, inquiry_or_review: str) -> str:
    """The review's workflow id, given it or its inquiry's (which records it when sampled)."""
    if inquiry_or_review.startswith("qa-"):
        return inquiry_or_review
    inquiry = client.get_workflow_handle_for(InquiryWorkflow.run, inquiry_or_review)
    with explained(client, inquiry_or_review):
        description = await inquiry.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            status = (await inquiry.result()).status
        else:
            status = await inquiry.query(InquiryWorkflow.status)
    if status.review_id is None:
        state = "is still open" if status.step != "closed" else "was not sampled for review"
        raise CareflowError(f"inquiry {inquiry_or_review} {state}: it has no review")
    return status.review_id


def _handle(client: Client, review: str) -> WorkflowHandle[QaReviewWorkflow, QaReview]:
    return client.get_workflow_handle_for(QaReviewWorkflow.run, review)


async def queue(client: Client, status: str | None = "waiting") -> list[QueuedReview]:
    """Open reviews (by default those waiting for a reviewer), oldest first."""
    query = QUEUE_QUERY + (f" AND CareReview='{status}'" if status else "")
    found: list[QueuedReview] = []
    with explained(client):
        async for execution in client.list_workflows(query):
            attributes = execution.typed_search_attributes
            found.append(
                QueuedReview(
                    id=execution.id,
                    inquiry_id=str((await execution.memo()).get("inquiry", "?")),
                    agent=attributes.get(search.AGENT),
                    channel=attributes.get(search.CHANNEL),
                    category=attributes.get(search.CATEGORY),
                    status=attributes.get(search.REVIEW),
                )
            )
    return list(reversed(found))  # visibility lists newest first


async def show(client: Client, inquiry_or_review: str) -> QaReview:
    """The review, open (its query) or closed (its result)."""
    review = await review_of(client, inquiry_or_review)
    with _explained(client, review):
        handle = _handle(client, review)
        description = await handle.describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        return await handle.query(QaReviewWorkflow.status)


async def _step(
    client: Client, inquiry_or_review: str, update: Any, request: BaseModel
) -> QaReview:
    review = await review_of(client, inquiry_or_review)
    with _explained(client, review):
        result: QaReview = await _handle(client, review).execute_update(update, request)
        return result


async def score(client: Client, inquiry_or_review: str, request: ScoreRequest) -> QaReview:
    return await _step(client, inquiry_or_review, QaReviewWorkflow.score, request)


async def dispute(client: Client, inquiry_or_review: str, request: DisputeRequest) -> QaReview:
    return await _step(client, inquiry_or_review, QaReviewWorkflow.dispute, request)


async def settle(client: Client, inquiry_or_review: str, request: SettleRequest) -> QaReview:
    return await _step(client, inquiry_or_review, QaReviewWorkflow.settle, request)


@contextmanager
def _explained(client: Client, review: str) -> Iterator[None]:
    """``explained``, with a missing review said as such (not as a missing inquiry)."""
    try:
        yield
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            with explained(client, review):
                raise
            raise
        if "already completed" in error.message:
            raise CareflowError(f"review {review} is closed") from error
        raise CareflowError(f"no review with id {review}") from error
    except Exception:
        with explained(client, review):
            raise
