"""A customer's edits, unsent messages and follow-up media, as the inquiry records them: the
view changes (new text, withdrawn text hidden, attachments shown), the history keeps every
text, and no rule runs again for an edit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from careflow.engine.post import Attachment
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.machine import EARLIER_TEXTS
from workflows.messages import ResolveRequest
from workflows.state import CustomerMessage, MessageChange

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
PHOTO = Attachment(type="image", url="https://cdn.example/label.jpg")


def test_edits_unsent_messages_and_follow_up_media(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            post = example("question", await h.now())
            handle = await h.start(post)
            await h.skip(MINUTE)
            now = await h.now()
            photo = CustomerMessage(id="m2", text="(photo)", at=now, attachments=[PHOTO])
            await handle.signal(InquiryWorkflow.customer_message, photo)
            typo = CustomerMessage(id="m3", text="my adress is 1 Main St", at=now)
            await handle.signal(InquiryWorkflow.customer_message, typo)
            status = await h.until(handle, lambda s: len(s.messages) == 3)
            fired_before = list(status.fired)

            fixed = MessageChange(id="m3", kind="edit", text="oops, wrong thread", at=now)
            await handle.signal(InquiryWorkflow.message_change, fixed)
            await handle.signal(InquiryWorkflow.message_change, fixed)  # redelivered
            first = MessageChange(id=post.id, kind="edit", text="size 44, not 43?", at=now)
            await handle.signal(InquiryWorkflow.message_change, first)
            gone = MessageChange(id="m3", kind="withdrawn", at=now)
            await handle.signal(InquiryWorkflow.message_change, gone)
            late = MessageChange(id="m3", kind="edit", text="back again", at=now)
            await handle.signal(InquiryWorkflow.message_change, late)  # withdrawn stays so
            stranger = MessageChange(id="m-none", kind="withdrawn", at=now)
            await handle.signal(InquiryWorkflow.message_change, stranger)
            for number in range(EARLIER_TEXTS + 3):  # more edits than a message keeps
                again = MessageChange(id="m2", kind="edit", text=f"(photo) v{number}", at=now)
                await handle.signal(InquiryWorkflow.message_change, again)

            status = await h.until(
                handle, lambda s: s.messages[1].text == f"(photo) v{EARLIER_TEXTS + 2}"
            )
            post_view, media, withdrawn = status.messages
            # The first post: the new text in the message and the inquiry, the old one kept.
            assert post_view.text == status.inquiry.text == "size 44, not 43?"
            assert [e.text for e in post_view.edited_from] == [post.text]
            # The follow-up photo keeps its media through edits; its earlier texts are bounded
            # (the first and the latest few).
            assert media.attachments == [PHOTO]
            earlier = [e.text for e in media.edited_from]
            assert len(earlier) == EARLIER_TEXTS + 1 and earlier[0] == "(photo)"
            assert earlier[-1] == f"(photo) v{EARLIER_TEXTS + 1}"
            # Unsent: marked, with no text left in the view.
            assert withdrawn.withdrawn_at is not None
            assert (withdrawn.text, withdrawn.edited_from) == ("", [])
            assert "my adress" not in status.model_dump_json()
            events = [entry.event for entry in status.timeline]
            assert events.count("customer.edited") == 2 + EARLIER_TEXTS + 3
            assert events.count("customer.withdrew") == 2  # m3, and the message it lacks
            # No rule ran again for the edits (customer.message rules, triage).
            assert status.fired == fired_before
            assert status.category == "general"

            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(100 * HOUR)
            result = await handle.result()
            assert result.status.messages[2].text == ""
            history = await keep_history(handle, "edits")
            # The history, not the view, still holds the withdrawn text (for audit).
            signalled = [
                payload.data
                for event in history.events
                if event.HasField("workflow_execution_signaled_event_attributes")
                for payload in event.workflow_execution_signaled_event_attributes.input.payloads
            ]
            assert any(b"my adress is 1 Main St" in data for data in signalled)

    asyncio.run(scenario())
