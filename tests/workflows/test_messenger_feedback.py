"""CSAT through Messenger's own customer-feedback template (``rating.messenger_template``): the
follow-up of a Messenger inquiry asks with it while Meta lets the page send it, and the
customer's answer (a ``messaging_feedback`` webhook, as the fake platform builds it and the Meta
door reads it) is their rating, running the same ``follow_up.rating`` rules as a typed one; on
the time-skipping server. Elsewhere, or too late, the question is the plain text it always was.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from careflow.channels import meta
from careflow.devtools.fake_webhooks import Customer, meta_batch, meta_feedback_event
from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts
from careflow.temporal.intake import feedback_message
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest

MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
PSID = "7400000000000001"
RATING_LINE = "rating: {scale: 5, template: rate_us, languages: [en, es, fr, de]}"
WITH_TEMPLATE = (
    "rating: {scale: 5, template: rate_us, languages: [en, es, fr, de], "
    "messenger_template: {privacy_url: 'https://acme.example/privacy'}}"
)


def messenger_pack(directory: Path, after: str = "24h") -> Path:
    """The round-the-clock pack whose rating asks with Messenger's template."""
    path = round_the_clock_pack(directory)
    text = path.read_text()
    assert RATING_LINE in text and "after: 24h" in text, "the default pack's follow-up changed"
    path.write_text(
        text.replace(RATING_LINE, WITH_TEMPLATE).replace("after: 24h", f"after: {after}")
    )
    return path


def messenger_inquiry(at: datetime) -> Inquiry:
    """A Messenger customer's message (a page-scoped id is all Meta gives of them)."""
    post = example("private-dm", at).model_dump()
    post.update(channel="messenger", id="m_first", conversation_id=PSID)
    post["author"].update(id=PSID, handle=PSID, name=None)
    return Inquiry.model_validate(post)


async def resolved(h: Any, inquiry: Inquiry) -> Any:
    handle = await h.start(inquiry)
    await handle.execute_update(
        InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! A new one is on its way.")
    )
    await handle.execute_update(
        InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
    )
    return handle


async def rate(h: Any, handle: Any, score: int, comment: str | None) -> None:
    """The customer submits the template: Meta's webhook, read by the Meta door, signalled."""
    at = await h.now()
    event = meta_feedback_event(Customer(PSID, PSID), score, comment, at)
    [feedback] = meta.webhook(meta_batch([event], at).body, BrandAccounts()).feedback
    await handle.signal(InquiryWorkflow.customer_message, feedback_message(feedback))


def follow_ups(h: Any) -> list[dict[str, Any]]:
    return [entry for entry in h.outbox() if entry["kind"] == "follow_up"]


def test_a_messenger_follow_up_asks_with_the_template_and_its_answer_is_the_rating(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, messenger_pack(tmp_path)) as h:
            handle = await resolved(h, messenger_inquiry(await h.now()))
            await h.skip(DAY + MINUTE)  # past Meta's 24 hours: the template's own tag allows 7 days
            [asked] = follow_ups(h)
            assert asked["text"] == "How did we do?"
            assert asked["feedback"]["privacy_url"] == "https://acme.example/privacy"
            assert asked["feedback"]["expires_in_days"] == 3  # as long as careflow waits (72h)
            status = await h.status(handle)
            assert status.rating_asked_at is not None and status.rating is None
            assert any(e.event == "rating.asked" for e in status.timeline)

            await rate(h, handle, 2, "the new one is broken too")
            status = await h.until(handle, lambda s: s.step == "resolve")
            assert status.rating is not None
            assert (status.rating.score, status.rating.scale, status.rating.form) == (
                2,
                5,
                "template",
            )
            assert status.rating.comment == "the new one is broken too"
            assert status.reopens == 1 and "low-rating" in status.fired  # the default pack's rule
            assert [e.reason for e in status.escalations] == ["low CSAT rating"]
            assert status.messages[-1].text == "2/5 the new one is broken too"

            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="refunded")
            )
            await h.skip(DAY + MINUTE)
            assert [entry.get("feedback") is not None for entry in follow_ups(h)] == [True, True]
            await rate(h, handle, 5, None)
            result = await handle.result()
            assert result.status.rating is not None and result.status.rating.score == 5
            assert result.reason == "customer rated the service highly"
            thanks = [e for e in h.outbox() if e["text"].startswith("Thank you for rating us")]
            assert len(thanks) == 1
            await keep_history(handle, "feedback-messenger-template")

    asyncio.run(scenario())


def test_too_late_for_the_template_or_on_x_the_question_is_plain_text(tmp_path: Path) -> None:
    async def scenario() -> None:
        # Eight days after the customer last wrote, Meta lets no template through: plain text.
        async with careflow(tmp_path, messenger_pack(tmp_path, after="8d")) as h:
            handle = await resolved(h, messenger_inquiry(await h.now()))
            await h.skip(8 * DAY + MINUTE)
            [asked] = follow_ups(h)
            assert "feedback" not in asked and "from 1 (poor) to 5 (great)" in asked["text"]
            status = await h.status(handle)
            assert status.rating_asked_at is not None
            assert not any(e.event == "rating.asked" for e in status.timeline)
            await h.say(handle, "4 thanks", private=True)  # a typed answer is read as before
            result = await handle.result()
            assert result.status.rating is not None
            assert (result.status.rating.score, result.status.rating.form) == (4, "number")

    async def on_x() -> None:
        home = tmp_path / "x"
        home.mkdir()
        async with careflow(home, messenger_pack(home)) as h:
            await resolved(h, example("private-dm", await h.now()))
            await h.skip(DAY + MINUTE)
            [asked] = follow_ups(h)
            assert asked["channel"] == "x"
            assert "feedback" not in asked and "from 1 (poor) to 5 (great)" in asked["text"]

    asyncio.run(scenario())
    asyncio.run(on_x())
