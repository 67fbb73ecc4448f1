"""Quality reviews on the time-skipping server: a closing inquiry the ``qa:`` sampling picks
gets a review workflow, which a reviewer scores, the agent may dispute and a supervisor settles;
bad scores are refused with nothing recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest
from workflows.qa import DisputeRequest, QaReviewWorkflow, ScoreRequest, SettleRequest
from workflows.qa_start import review_id

MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
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
    return handle.id


async def rejected(call: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call
    return str(caught.value.cause.message)  # type: ignore[union-attr]


def test_a_sampled_inquiry_is_reviewed_disputed_and_settled(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, pack(tmp_path)) as h:
            quiet = await closed_inquiry(h, reopen=False)
            with pytest.raises(RPCError):  # not sampled: no review
                await h.env.client.get_workflow_handle(review_id(quiet)).describe()

            inquiry = await closed_inquiry(h, reopen=True)
            review = h.env.client.get_workflow_handle_for(QaReviewWorkflow.run, review_id(inquiry))
            waiting = await review.query(QaReviewWorkflow.status)
            assert waiting.status == "waiting" and waiting.input.agent == "Ana"
            assert waiting.input.rubric_version == "2026-12"
            assert waiting.input.reasons == ["reopens gte 1 (was 1)"]

            # Bad scores: refused, and nothing recorded.
            good = {"empathy": 4, "accuracy": 5, "privacy": 2}
            score = QaReviewWorkflow.score
            assert (
                await rejected(
                    review.execute_update(
                        score, ScoreRequest(reviewer="Rita", scores={**good, "tone": 3})
                    )
                )
                == "unknown criterion 'tone': the rubric has empathy, accuracy, privacy"
            )
            assert (
                await rejected(
                    review.execute_update(
                        score, ScoreRequest(reviewer="Rita", scores={**good, "privacy": 3})
                    )
                )
                == "privacy=3 is outside the scale: score it from 1 to 2"
            )
            assert (
                await rejected(
                    review.execute_update(
                        score, ScoreRequest(reviewer="Rita", scores={"empathy": 4})
                    )
                )
                == "score every criterion: accuracy, privacy missing"
            )
            unchanged = await review.query(QaReviewWorkflow.status)
            assert (unchanged.status, unchanged.scores, unchanged.events) == ("waiting", {}, [])

            scored = await review.execute_update(
                score, ScoreRequest(reviewer="Rita", scores=good, note="Warm, but slow to DM.")
            )
            assert (scored.status, scored.reviewer, scored.scores) == ("scored", "Rita", good)
            assert (
                await rejected(
                    review.execute_update(
                        QaReviewWorkflow.dispute, DisputeRequest(agent="Ben", reason="not mine")
                    )
                )
                == "only the reviewed agent (Ana) may dispute this review"
            )
            disputed = await review.execute_update(
                QaReviewWorkflow.dispute,
                DisputeRequest(agent="Ana", reason="The customer asked to stay public."),
            )
            assert disputed.status == "disputed"
            settled = await review.execute_update(
                QaReviewWorkflow.settle,
                SettleRequest(
                    supervisor="Sam", note="Agreed: privacy was right.", scores={"privacy": 2}
                ),
            )
            assert settled.status == "settled"
            result = await review.result()
            assert [(e.event, e.by) for e in result.events] == [
                ("scored", "Rita"),
                ("disputed", "Ana"),
                ("settled", "Sam"),
            ]
            assert "rubric 2026-12" in result.events[0].detail

    asyncio.run(scenario())


def test_an_undisputed_review_becomes_final_after_the_dispute_window(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, pack(tmp_path)) as h:
            inquiry = await closed_inquiry(h, reopen=True)
            review = h.env.client.get_workflow_handle_for(QaReviewWorkflow.run, review_id(inquiry))
            # The time-skipping server loses an update sent before a workflow's first task.
            assert (await review.query(QaReviewWorkflow.status)).status == "waiting"
            await review.execute_update(
                QaReviewWorkflow.score,
                ScoreRequest(reviewer="Rita", scores={"empathy": 5, "accuracy": 5, "privacy": 2}),
            )
            for _ in range(4):  # the dispute window: 3 days
                await h.skip(DAY)
            result = await review.result()
            assert result.status == "final"
            assert [e.event for e in result.events] == ["scored", "final"]

    asyncio.run(scenario())
