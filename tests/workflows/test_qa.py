"""Quality reviews on the time-skipping server: a closing inquiry the ``qa:`` sampling picks
gets a review workflow, which a reviewer scores, the agent may dispute and a supervisor settles;
bad scores are refused with nothing recorded."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest
from workflows.qa import (
    Criterion,
    DisputeRequest,
    QaReviewInput,
    QaReviewWorkflow,
    ScoreRequest,
    SettleRequest,
)

MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
# Review workflows' histories, replayed by the last test here (the inquiry's are in histories/).
REVIEW_HISTORIES = Path(__file__).parent / "review_histories"
QA = """
qa:
  rubric:
    version: "2026-12"
    criteria:
      empathy: {scale: 5, description: Acknowledges how the customer feels}
      accuracy: {scale: 5, description: The answer is right}
      privacy: {scale: 2, description: Personal data moved to a private channel}
  sampling:
    share: 0%
    when: {any: [{reopens: {gte: 1}}, {rating.score: {lte: 2}}]}
  dispute_within: 3d
"""


def pack(directory: Path) -> Path:
    return round_the_clock_pack(directory, QA)


async def closed_inquiry(h: Any, *, reopen: bool) -> str:
    """An inquiry Ana answers and resolves; reopened once by the customer, or not."""
    handle = await h.start(example("warranty", await h.now()))
    await handle.execute_update(
        InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! A new one is on its way.")
    )
    await handle.execute_update(InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="sent"))
    if reopen:
        await h.skip(DAY + MINUTE)
        await h.say(handle, "nope, still broken")
        await h.until(handle, lambda s: s.step == "resolve")
        await handle.execute_update(
            InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="refunded")
        )
    await h.say(handle, "thanks, all good")
    result = await handle.result()
    assert result.status.step == "closed"
    if reopen:
        await keep_history(handle, "qa-sampled")
    return str(handle.id)


async def rejected(call: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ActionRejected"
    return str(cause.message)


def test_a_closing_inquiry_matching_the_sampling_waits_for_review(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, pack(tmp_path)) as h:
            quiet = await closed_inquiry(h, reopen=False)
            quiet_status = await h.status(h.env.client.get_workflow_handle(quiet))
            assert quiet_status.review_id is None  # not sampled: no review

            inquiry = await closed_inquiry(h, reopen=True)
            closed = await h.status(h.env.client.get_workflow_handle(inquiry))
            assert closed.review_id is not None
            review = h.env.client.get_workflow_handle_for(QaReviewWorkflow.run, closed.review_id)
            waiting = await review.query(QaReviewWorkflow.status)
            assert waiting.status == "waiting" and waiting.input.agent == "Ana"
            assert waiting.input.rubric_version == "2026-12"
            assert waiting.input.reasons == ["reopens gte 1 (was 1)"]
            assert list(waiting.input.criteria) == ["empathy", "accuracy", "privacy"]
            assert [e.event for e in closed.timeline][-1] == "qa.sampled"

    asyncio.run(scenario())


async def started_review(h: Any) -> Any:
    """A review as the sampling starts one (the same input), started from the client: the
    time-skipping server loses Updates sent to a child workflow whose parent has closed, which
    a real server does not (tests/http/test_qa_api.py scores a sampled one there)."""
    review = QaReviewInput(
        inquiry_id="inquiry-x-1",
        agent="Ana",
        channel="x",
        category="warranty",
        closed_at=await h.now(),
        reasons=["reopens gte 1 (was 1)"],
        rubric_version="2026-12",
        criteria={
            "empathy": Criterion(scale=5, description="Acknowledges how the customer feels"),
            "accuracy": Criterion(scale=5, description="The answer is right"),
            "privacy": Criterion(scale=2, description="Personal data moved to a private channel"),
        },
        dispute_within_seconds=3 * 86400,
        search_attributes=False,
    )
    handle = await h.env.client.start_workflow(
        QaReviewWorkflow.run,
        review,
        id=f"qa-inquiry-x-{uuid.uuid4().hex[:8]}",
        task_queue=h.settings.temporal.task_queue,
    )
    await handle.query(QaReviewWorkflow.status)
    return handle


def test_a_review_is_scored_disputed_and_settled_and_bad_scores_record_nothing(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, pack(tmp_path)) as h:
            review = await started_review(h)
            good = {"empathy": 4, "accuracy": 5, "privacy": 2}
            score = QaReviewWorkflow.score

            async def refused(scores: dict[str, int]) -> str:
                request = ScoreRequest(reviewer="Rita", scores=scores)
                return await rejected(review.execute_update(score, request))

            assert await refused({**good, "tone": 3}) == (
                "unknown criterion 'tone': the rubric has empathy, accuracy, privacy"
            )
            assert await refused({**good, "privacy": 3}) == (
                "privacy=3 is outside the scale: score it from 1 to 2"
            )
            assert await refused({"empathy": 4}) == (
                "score every criterion: accuracy, privacy missing"
            )
            unchanged = await review.query(QaReviewWorkflow.status)
            assert (unchanged.status, unchanged.scores, unchanged.events) == ("waiting", {}, [])

            scored = await review.execute_update(
                score, ScoreRequest(reviewer="Rita", scores=good, note="Warm, but slow to DM.")
            )
            assert (scored.status, scored.reviewer, scored.scores) == ("scored", "Rita", good)
            dispute = QaReviewWorkflow.dispute
            assert (
                await rejected(
                    review.execute_update(dispute, DisputeRequest(agent="Ben", reason="not mine"))
                )
                == "only the reviewed agent (Ana) may dispute this review"
            )
            disputed = await review.execute_update(
                dispute, DisputeRequest(agent="Ana", reason="The customer asked to stay public.")
            )
            assert disputed.status == "disputed"
            settle = SettleRequest(
                supervisor="Sam", note="Agreed: privacy was right.", scores={"privacy": 2}
            )
            settled = await review.execute_update(QaReviewWorkflow.settle, settle)
            assert settled.status == "settled"
            result = await review.result()
            assert [(e.event, e.by) for e in result.events] == [
                ("scored", "Rita"),
                ("disputed", "Ana"),
                ("settled", "Sam"),
            ]
            assert "rubric 2026-12" in result.events[0].detail
            await keep_history(review, "scored-disputed-settled", REVIEW_HISTORIES)

    asyncio.run(scenario())


def test_an_undisputed_review_becomes_final_after_the_dispute_window(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, pack(tmp_path)) as h:
            review = await started_review(h)
            await review.execute_update(
                QaReviewWorkflow.score,
                ScoreRequest(reviewer="Rita", scores={"empathy": 5, "accuracy": 5, "privacy": 2}),
            )
            result = await review.result()  # the server skips the 3 days
            assert result.status == "final"
            assert [e.event for e in result.events] == ["scored", "final"]

    asyncio.run(scenario())


def test_recorded_reviews_replay_on_the_current_workflow() -> None:
    files = sorted(REVIEW_HISTORIES.glob("*.json"))
    assert {f.stem for f in files} >= {"scored-disputed-settled", "settled-on-a-server"}
    replayer = Replayer(workflows=[QaReviewWorkflow], data_converter=pydantic_data_converter)

    async def replay() -> None:
        for file in files:
            history = WorkflowHistory.from_json(f"qa-{file.stem}", json.loads(file.read_text()))
            await replayer.replay_workflow(history)

    asyncio.run(replay())
