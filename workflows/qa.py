"""A quality review of one closed inquiry: scored by a reviewer, maybe disputed by the agent,
settled by a supervisor.

One workflow per sampled inquiry (id ``qa-<inquiry workflow id>``), started by the inquiry as it
closes: reviews are as durable as inquiries, scale with the Temporal cluster, and need no
second database. Its history is the audit trail (who scored what, when, against which rubric
version); its search attributes (``CareReview``, ``CareAgent``, …) are the review queue. Each
step is an Update whose validator refuses bad input before anything is recorded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.search import REVIEW

REVIEW_WORKFLOW = "QaReview"
ReviewStatus = Literal["waiting", "scored", "disputed", "final", "settled"]


class Criterion(BaseModel):
    scale: int
    description: str


class QaReviewInput(BaseModel):
    """What the inquiry hands to its review as it closes."""

    inquiry_id: str
    agent: str | None
    channel: str
    category: str
    closed_at: AwareDatetime
    reasons: list[str]  # why it was sampled
    rubric_version: str
    criteria: dict[str, Criterion]
    dispute_within_seconds: int
    search_attributes: bool = True  # the time-skipping test server has none


class ScoreRequest(BaseModel):
    reviewer: str
    scores: dict[str, int]
    note: str = ""


class DisputeRequest(BaseModel):
    agent: str
    reason: str


class SettleRequest(BaseModel):
    supervisor: str
    note: str
    scores: dict[str, int] = {}  # criteria the supervisor changes; the others stand


class ReviewEvent(BaseModel):
    """One step of the review, for the audit trail."""

    at: AwareDatetime
    event: str  # scored, disputed, settled, final
    by: str
    detail: str


class QaReview(BaseModel):
    """The review as ``careflow qa show`` and the API show it, and the workflow's result."""

    id: str
    input: QaReviewInput
    status: ReviewStatus = "waiting"
    scores: dict[str, int] = {}
    note: str = ""
    reviewer: str | None = None
    scored_at: AwareDatetime | None = None
    dispute: str | None = None
    settlement: str | None = None
    events: list[ReviewEvent] = []


def _rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="ActionRejected", non_retryable=True)


def check_scores(criteria: dict[str, Criterion], scores: dict[str, int], *, every: bool) -> None:
    """Unknown criteria, scores off the scale and (with ``every``) missing criteria are refused,
    each named."""
    unknown = sorted(set(scores) - set(criteria))
    if unknown:
        raise _rejected(
            f"unknown criterion {', '.join(map(repr, unknown))}: the rubric has "
            f"{', '.join(criteria)}"
        )
    for name, score in scores.items():
        scale = criteria[name].scale
        if not 1 <= score <= scale:
            raise _rejected(f"{name}={score} is outside the scale: score it from 1 to {scale}")
    missing = [name for name in criteria if name not in scores]
    if every and missing:
        raise _rejected(f"score every criterion: {', '.join(missing)} missing")


@workflow.defn(name=REVIEW_WORKFLOW)
class QaReviewWorkflow:
    """Waits for a score, then for a dispute (until ``dispute_within``), then for a settlement."""

    def __init__(self) -> None:
        self._review: QaReview | None = None

    @workflow.run
    async def run(self, input: QaReviewInput) -> QaReview:
        self._review = QaReview(id=workflow.info().workflow_id, input=input)
        self._index()
        await workflow.wait_condition(lambda: self.review.status != "waiting")
        disputed = await self._wait_for_dispute(input.dispute_within_seconds)
        if not disputed:
            self._event("final", "careflow", "no dispute in time: the review stands")
            self.review.status = "final"
        else:
            await workflow.wait_condition(lambda: self.review.status == "settled")
        self._index()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.review

    async def _wait_for_dispute(self, seconds: int) -> bool:
        try:
            await workflow.wait_condition(
                lambda: self.review.status != "scored", timeout=timedelta(seconds=seconds)
            )
        except TimeoutError:
            return False
        return True

    @property
    def review(self) -> QaReview:
        assert self._review is not None
        return self._review

    @workflow.query
    def status(self) -> QaReview:
        return self.review

    # ------------------------------------------------------------------ updates

    @workflow.update
    async def score(self, request: ScoreRequest) -> QaReview:
        review = self.review
        review.scores = dict(request.scores)
        review.note = request.note
        review.reviewer = request.reviewer
        review.scored_at = workflow.now()
        review.status = "scored"
        scores = ", ".join(f"{k}={v}" for k, v in request.scores.items())
        self._event("scored", request.reviewer, f"{scores} (rubric {review.input.rubric_version})")
        self._index()
        return review

    @score.validator
    def _validate_score(self, request: ScoreRequest) -> None:
        if not request.reviewer.strip():
            raise _rejected("the reviewer is empty")
        if self._review is None or self.review.status != "waiting":
            status = "starting" if self._review is None else self.review.status
            raise _rejected(f"the review is {status}: only a waiting review can be scored")
        check_scores(self.review.input.criteria, request.scores, every=True)

    @workflow.update
    async def dispute(self, request: DisputeRequest) -> QaReview:
        review = self.review
        review.dispute = request.reason
        review.status = "disputed"
        self._event("disputed", request.agent, request.reason)
        self._index()
        return review

    @dispute.validator
    def _validate_dispute(self, request: DisputeRequest) -> None:
        if self._review is None or self.review.status != "scored":
            status = "starting" if self._review is None else self.review.status
            raise _rejected(f"the review is {status}: only a scored review can be disputed")
        if request.agent != self.review.input.agent:
            raise _rejected(
                f"only the reviewed agent ({self.review.input.agent}) may dispute this review"
            )
        if not request.reason.strip():
            raise _rejected("say why: the reason is empty")

    @workflow.update
    async def settle(self, request: SettleRequest) -> QaReview:
        review = self.review
        review.scores = {**review.scores, **request.scores}
        review.settlement = request.note
        review.status = "settled"
        self._index()
        changed = ", ".join(f"{k}={v}" for k, v in request.scores.items()) or "scores kept"
        self._event("settled", request.supervisor, f"{changed}: {request.note}")
        return review

    @settle.validator
    def _validate_settle(self, request: SettleRequest) -> None:
        if self._review is None or self.review.status != "disputed":
            status = "starting" if self._review is None else self.review.status
            raise _rejected(f"the review is {status}: only a disputed review can be settled")
        if not request.supervisor.strip() or not request.note.strip():
            raise _rejected("a settlement needs the supervisor and a note")
        check_scores(self.review.input.criteria, request.scores, every=False)

    # ------------------------------------------------------------------ record

    def _event(self, event: str, by: str, detail: str) -> None:
        self.review.events.append(ReviewEvent(at=workflow.now(), event=event, by=by, detail=detail))

    def _index(self) -> None:
        """The status for the queue; the scores in the memo, so ``careflow report`` reads them
        from one visibility listing (on a real server: the test server has neither)."""
        review = self.review
        if review.input.search_attributes:
            workflow.upsert_search_attributes([REVIEW.value_set(review.status)])
            if review.scores:
                workflow.upsert_memo(
                    {"scores": review.scores, "rubric": review.input.rubric_version}
                )
