"""CSAT: the follow-up asks for a rating (the default pack's ``flow.follow_up.rating``), the
customer's answer is read as a score, and the ``follow_up.rating`` rules act on it; on the
time-skipping server, as customers and agents see it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from careflow.audit.report import build_report
from careflow.audit.report_html import report_html
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from tests.workflows.states import inquiry_state
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest
from workflows.rating import Rating

MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def kinds(outbox: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in outbox]


async def resolved(h: Any, name: str = "warranty") -> Any:
    """An inquiry answered and resolved by Ana: its follow-up is a day away."""
    handle = await h.start(example(name, await h.now()))
    await handle.execute_update(
        InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! A new one is on its way.")
    )
    await handle.execute_update(
        InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
    )
    return handle


ANSWERS = [
    ("4", 4, None),
    ("4/5 quick and friendly", 4, "quick and friendly"),
    ("★★★★★", 5, None),
    ("👍", 4, None),
    ("Great!", 5, None),
    ("muy bueno, gracias", 5, "muy bueno, gracias"),
]


def test_each_answer_form_is_read_as_a_rating_and_a_high_one_thanked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handles = [await resolved(h) for _ in ANSWERS]
            await h.skip(DAY + MINUTE)
            for handle in handles:
                status = await h.status(handle)
                assert status.rating_asked_at is not None and status.rating is None
            asked = [e for e in h.outbox() if e["kind"] == "follow_up"]
            assert len(asked) == len(ANSWERS)
            assert all("from 1 (poor) to 5 (great)" in e["text"] for e in asked)
            for handle, (text, _, _) in zip(handles, ANSWERS, strict=True):
                await h.say(handle, text)
            for handle, (text, score, comment) in zip(handles, ANSWERS, strict=True):
                result = await handle.result()
                rating = result.status.rating
                assert rating is not None, text
                assert (rating.score, rating.scale, rating.comment) == (score, 5, comment), text
                assert result.status.reopens == 0
                assert "high-rating" in result.status.fired
                assert result.reason == "customer rated the service highly"
                assert any(e.event == "rated" for e in result.status.timeline)
            thanks = [e for e in h.outbox() if e["text"].startswith("Thank you for rating us")]
            assert len(thanks) == len(ANSWERS)  # one each, never twice

    asyncio.run(scenario())


def test_a_non_answer_is_not_a_rating(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await resolved(h)
            await h.say(handle, "thanks, great")  # before the question: not an answer to it
            result = await handle.result()
            assert result.status.rating is None and result.status.rating_asked_at is None
            assert result.reason == "customer confirmed the fix"

            handle = await resolved(h, "return")
            await h.skip(DAY + MINUTE)
            await h.say(handle, "What do you mean? I ordered 3 items and got 2")
            status = await h.until(handle, lambda s: s.step == "resolve")
            assert status.rating is None and status.reopens == 1
            assert "low-rating" not in status.fired and "high-rating" not in status.fired

    asyncio.run(scenario())


def test_a_low_rating_reopens_and_escalates_and_the_next_rating_replaces_it(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await resolved(h)
            await h.skip(DAY + MINUTE)
            await h.say(handle, "2 - the new one is broken too")
            status = await h.until(handle, lambda s: s.step == "resolve")
            assert status.rating is not None
            assert (status.rating.score, status.rating.comment) == (2, "the new one is broken too")
            assert status.reopens == 1 and "low-rating" in status.fired
            assert [e.reason for e in status.escalations] == ["low CSAT rating"]
            assert kinds(h.outbox())[-1] == "escalation"
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="refunded")
            )
            await h.skip(DAY + MINUTE)
            assert [e["kind"] for e in h.outbox()].count("follow_up") == 2  # asked again
            await h.say(handle, "5")
            result = await handle.result()
            assert result.status.rating is not None and result.status.rating.score == 5
            assert result.reason == "customer rated the service highly"
            page = report_html(build_report(result.status, result.kind))  # audit report
            assert "CSAT <b>5/5</b>" in page
            await keep_history(handle, "csat-rating")

    asyncio.run(scenario())


def test_a_rating_no_rule_acts_on_closes_the_inquiry(tmp_path: Path) -> None:
    """A 3 of 5 is neither thanked nor reopened by the default pack: the customer answered."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await resolved(h)
            await h.skip(DAY + MINUTE)
            await h.say(handle, "meh")
            result = await handle.result()
            assert result.status.rating is not None and result.status.rating.score == 3
            assert result.reason == "the customer rated 3/5"
            assert result.status.reopens == 0

    asyncio.run(scenario())


@pytest.mark.parametrize(("score", "scale", "kept"), [(5, 5, 5.0), (2, 5, 2.0), (10, 10, 5.0)])
def test_the_rating_is_a_search_attribute_on_a_five_point_scale(
    score: int, scale: int, kept: float
) -> None:
    asked = datetime(2026, 12, 1, tzinfo=UTC)
    rating = Rating(score=score, scale=scale, at=asked + MINUTE, form="number")
    values = dict(search.wanted(inquiry_state(rating_asked_at=asked, rating=rating), sla=True))
    assert values[search.RATING] == kept and values[search.RATING_ASKED] == asked
    # An inquiry that never asked keeps no CSAT attribute (recorded histories stay as they were).
    assert search.RATING not in dict(search.wanted(inquiry_state(), sla=True))
