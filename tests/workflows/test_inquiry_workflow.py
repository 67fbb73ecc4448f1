"""Every path of the inquiry workflow, on the time-skipping server, as agents and customers see it.

Each test drives one inquiry with the real worker (rules loaded by the activity, the sandbox
adapter writing the outbox) and checks the status, the outbox and the result. With
CAREFLOW_RECORD_HISTORIES=1 the histories are saved to tests/workflows/histories/ for the replay test.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from activities.adapters.sandbox import SandboxAdapter
from activities.types import Delivery, Outbound
from careflow.engine.zones import zone
from careflow.temporal.intake import first_message
from tests.conftest import DEFAULT_PACK
from tests.harness import FAULT_HISTORIES, careflow, example, keep_history, round_the_clock_pack
from tests.workflows.faulty import rules_break_on_customer_messages
from workflows import faults
from workflows.inquiry import InquiryWorkflow
from workflows.messages import (
    AcknowledgeRequest,
    AssignRequest,
    EscalateRequest,
    InquiryInput,
    InvitePrivateRequest,
    ReopenRequest,
    ReplyRequest,
    ResolveRequest,
)
from workflows.state import SHOWN_MESSAGES, BrandMessage

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def kinds(outbox: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in outbox]


def test_spam_is_dropped_at_triage_and_nothing_is_sent(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("spam-giveaway", await h.now()))
            result = await handle.result()
            assert (result.kind, result.reason) == ("dropped", "dropped: spam")
            assert result.status.fired == ["drop-giveaway-spam"]
            assert result.status.clocks == {}
            assert h.outbox() == []
            await keep_history(handle, "dropped")

    run(scenario())


def test_rules_read_a_post_only_up_to_its_platforms_limit(tmp_path: Path) -> None:
    """A 'post' longer than X allows (a pasted log, a crafted payload) is kept whole, but the
    rules read its first 4,000 characters: spam words past them drop nothing."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            post = example("question", await h.now())
            filler = "my order has not arrived yet " * 200  # 5,800 characters
            long_post = post.model_copy(update={"text": f"{filler} GIVEAWAY follow back"})
            handle = await h.start(long_post)
            status = await h.until(handle, lambda s: bool(s.fired))
            assert "drop-giveaway-spam" not in status.fired
            assert status.inquiry.text == long_post.text  # kept whole
            history = await handle.fetch_history()
            patches = [
                e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
                for e in history.events
                if e.HasField("marker_recorded_event_attributes")
            ]
            assert any(b"bounded-text" in patch for patch in patches)

    run(scenario())


def test_rule_acknowledges_a_dm_at_once(tmp_path: Path) -> None:
    instant_ack = """
  - name: instant-dm-ack
    on: received
    when: {kind: private}
    do: [{reply: {template: ack, private: true}}]
"""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path, instant_ack)) as h:
            handle = await h.start(example("private-dm", await h.now()))
            status = await h.until(handle, lambda s: s.step != "acknowledge")
            ack = status.clocks["acknowledge"]
            assert (ack.internal, ack.published) == ("met", "met")
            assert status.step == "resolve"  # a DM is never asked to move
            assert "instant-dm-ack" in status.fired
            [sent] = h.outbox()
            assert sent["private"] is True and sent["text"].startswith("Hi ")
            assert "within 1 hour" in sent["text"]
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.say(handle, "thanks, all good")
            result = await handle.result()
            assert result.reason == "customer confirmed the fix"
            await keep_history(handle, "auto-ack")

    run(scenario())


def test_an_agent_who_resolves_an_unassigned_inquiry_keeps_it(tmp_path: Path) -> None:
    """The safety net acknowledged, nobody took the inquiry, Ana resolves it: she owns it from
    then on (through the follow-up and the close), so a supervisor can see who closed it."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.skip(31 * MINUTE)  # the safety-net acknowledgement, by the rules
            status = await h.until(handle, lambda s: s.step == "resolve")
            assert status.agent is None
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            assert (await h.status(handle)).agent == "Ana"
            await h.say(handle, "thanks, all good")
            result = await handle.result()
            assert result.status.step == "closed" and result.status.agent == "Ana"
            await keep_history(handle, "resolver-assigned")

    run(scenario())


def test_safety_net_ack_goes_out_at_the_internal_target(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            posted = await h.now()
            handle = await h.start(example("question", posted))
            await h.skip(29 * MINUTE)
            assert h.outbox() == []
            await h.skip(2 * MINUTE)
            status = await h.status(handle)
            ack = status.clocks["acknowledge"]
            assert (ack.internal, ack.published) == ("missed", "met")
            assert ack.internal_due == posted + 30 * MINUTE
            assert ack.met_at is not None and ack.met_at >= ack.internal_due
            assert status.fired == ["safety-net-ack"]
            assert status.step == "resolve"
            assert kinds(h.outbox()) == ["reply"]
            assert status.messages[-1].by == "rule:safety-net-ack"
            await keep_history(handle, "safety-net-ack")

    run(scenario())


def test_published_breach_is_recorded_and_a_supervisor_told(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            posted = await h.now()
            handle = await h.start(example("question", posted))
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            await h.skip(25 * HOUR)  # nobody resolves: the 24 h resolve window passes
            status = await h.status(handle)
            resolve = status.clocks["resolve"]
            assert (resolve.internal, resolve.published) == ("missed", "missed")
            assert resolve.published_passed_at is not None
            assert resolve.published_passed_at >= posted + 24 * HOUR
            assert status.breached == ["resolve"]
            assert "window-breached" in status.tags
            assert status.fired == ["published-breach"]
            notes = [e for e in h.outbox() if e["kind"] == "notification"]
            assert [n["to"] for n in notes] == ["supervisors"]
            assert notes[0]["text"].startswith("Published window missed on x")
            events = [e.event for e in status.timeline]
            assert events.count("window.published") == 1  # passes once per clock instance
            await keep_history(handle, "published-breach")

    run(scenario())


def test_a_reply_made_on_the_platform_counts_and_careflows_own_echoes_do_not(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.skip(5 * MINUTE)
            ack = await handle.execute_update(
                InquiryWorkflow.acknowledge,
                AcknowledgeRequest(agent="Ana", text="Hi Jules, checking the stock."),
            )
            (ours,) = [m for m in (await h.status(handle)).messages if m.direction == "out"]
            assert ours.text == ack.text
            # The platform echoes careflow's own reply back (twice: a webhook retry)…
            echo = BrandMessage(id=str(ours.id), text=str(ack.text), at=await h.now(), by="acme")
            await handle.signal(InquiryWorkflow.brand_message, echo)
            await handle.signal(InquiryWorkflow.brand_message, echo)
            # …and a colleague answers in X's own app.
            native = BrandMessage(
                id="1870000000000000777",
                text="@hikerjules size 44 is back in stock online",
                at=await h.now(),
                by="acme",
            )
            await handle.signal(InquiryWorkflow.brand_message, native)
            status = await h.until(
                handle, lambda s: any(m.kind == "native_reply" for m in s.messages)
            )
            sent = [(m.kind, m.text, m.by) for m in status.messages if m.direction == "out"]
            assert sent == [
                ("reply", "Hi Jules, checking the stock. ^Ana", "Ana"),
                ("native_reply", "@hikerjules size 44 is back in stock online", "acme"),
            ]
            assert status.duplicate_deliveries == 1
            assert kinds(h.outbox()) == ["reply"]  # nothing was posted for the echoes
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(100 * HOUR)  # the follow-up goes unanswered: closed
            result = await handle.result()
            assert result.kind == "closed" and result.status.step == "closed"
            await keep_history(handle, "native-reply")

    run(scenario())


def test_human_ack_in_time_meets_both_targets_and_is_signed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.skip(5 * MINUTE)
            result = await handle.execute_update(
                InquiryWorkflow.acknowledge,
                AcknowledgeRequest(agent="Ana", text="Hi Jules, checking your order now."),
            )
            assert result.text == "Hi Jules, checking your order now. ^Ana"
            status = await h.status(handle)
            ack = status.clocks["acknowledge"]
            assert (ack.internal, ack.published) == ("met", "met")
            assert status.agent == "Ana"
            await h.skip(HOUR)  # the internal target passes with no safety-net ack
            assert kinds(h.outbox()) == ["reply"]
            assert h.outbox()[0]["text"].endswith("^Ana")
            await keep_history(handle, "human-ack")

    run(scenario())


def test_privatize_with_a_dm(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("late-delivery", await h.now()))
            acknowledged = await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text="On it!")
            )
            assert acknowledged.step == "privatize"  # where the inquiry is after the action
            status = await h.status(handle)
            assert status.step == "privatize" and status.privatize == "required"
            assert status.clocks["resolve"].paused  # waiting on the customer
            assert kinds(h.outbox()) == ["reply", "invitation"]
            await h.skip(30 * MINUTE)
            await h.say(handle, "order 123-4567, sam@example.com", private=True)
            await h.skip(MINUTE)
            status = await h.status(handle)
            assert status.step == "resolve"
            assert not status.clocks["resolve"].paused
            # 30 paused minutes do not count: the resolve deadline moved by them.
            posted = status.inquiry.created_at
            assert status.clocks["resolve"].internal_due >= posted + 4 * HOUR + 29 * MINUTE
            assert status.messages[-1].private and status.messages[-1].direction == "in"
            reply = await handle.execute_update(
                InquiryWorkflow.reply,
                ReplyRequest(
                    agent="Ana", text="Found it, a replacement ships today.", private=True
                ),
            )
            assert reply.text == "Found it, a replacement ships today. ^Ana"
            assert h.outbox()[-1]["private"] is True
            await keep_history(handle, "privatize-dm")

    run(scenario())


def test_privatize_reminds_then_gives_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("late-delivery", await h.now()))
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            await h.skip(2 * HOUR + MINUTE)
            assert kinds(h.outbox()) == ["reply", "invitation", "reminder"]
            assert h.outbox()[-1]["text"].startswith("Hi Sam K, just checking")
            status = await h.status(handle)
            assert status.step == "privatize"
            await h.skip(46 * HOUR)
            status = await h.status(handle)
            assert status.step == "resolve"
            assert "stayed-public" in status.tags
            assert "privatize-declined" in status.fired
            assert not status.clocks["resolve"].paused
            await keep_history(handle, "privatize-given-up")

    run(scenario())


def test_follow_up_reply_reopens_then_thanks_closes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("warranty", await h.now()))
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Try a reset, please.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve,
                ResolveRequest(agent="Ana", code="reset", note="factory reset"),
            )
            await h.skip(24 * HOUR + MINUTE)
            assert kinds(h.outbox())[-1] == "follow_up"
            await h.say(handle, "nope, still broken")
            await h.skip(MINUTE)
            status = await h.status(handle)
            assert status.step == "resolve" and status.reopens == 1
            assert "follow-up-not-fixed" in status.fired
            assert status.clocks["resolve"].internal == "pending"
            assert [c["name"] for c in status.earlier_clocks] == ["resolve"]
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="replaced")
            )
            await h.skip(24 * HOUR + MINUTE)
            await h.say(handle, "All sorted now, thank you!")
            result = await handle.result()
            assert result.reason == "customer confirmed the fix"
            assert result.resolution_code == "replaced"
            assert result.status.step == "closed"
            assert result.first_response_seconds is not None
            await keep_history(handle, "reopen-after-follow-up")

    run(scenario())


def test_silent_follow_up_closes_with_every_verdict(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("return", await h.now()))
            await h.skip(10 * MINUTE)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Here is the return label.")
            )
            await h.say(handle, "Got it, and the refund?")
            await h.skip(20 * MINUTE)
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="refunded")
            )
            result = await handle.result()  # the server skips the 24 h + 72 h
            assert result.reason == "no answer to the follow-up"
            clocks = result.status.clocks
            assert (clocks["acknowledge"].internal, clocks["acknowledge"].published) == (
                "met",
                "met",
            )
            assert (clocks["resolve"].internal, clocks["resolve"].published) == ("met", "met")
            # Resolved while the customer had the last word: the next-reply clock stops, unmissed.
            assert clocks["next_reply"].stopped_at is not None
            assert (clocks["next_reply"].internal, clocks["next_reply"].published) == ("met", "met")
            assert kinds(h.outbox()) == ["reply", "follow_up"]
            assert result.first_response_seconds == pytest.approx(600, abs=5)
            assert [e.event for e in result.status.timeline][-1] == "closed"
            await keep_history(handle, "silent-follow-up")

    run(scenario())


WEEKDAY_PACK_CHANGES = (
    ('hours: {mon-fri: "08:00-20:00", sat: "10:00-16:00"}', 'hours: {mon-fri: "08:00-20:00"}'),
    ("holidays: [2026-11-26, 2026-12-25, 2027-01-01]", "holidays: []"),
)


def _next_friday_evening(now: datetime) -> datetime:
    new_york = zone("America/New_York")
    local = now.astimezone(new_york)
    days = (4 - local.weekday()) % 7 or 7
    friday = (local + timedelta(days=days)).replace(hour=19, minute=55, second=0, microsecond=0)
    return friday


def test_friday_evening_post_is_due_on_monday(tmp_path: Path) -> None:
    text = DEFAULT_PACK.read_text()
    for old, new in WEEKDAY_PACK_CHANGES:
        assert old in text
        text = text.replace(old, new)
    pack = tmp_path / "weekdays.yaml"
    pack.write_text(text)

    async def scenario() -> None:
        async with careflow(tmp_path, pack) as h:
            friday = _next_friday_evening(await h.now())
            await h.skip(friday - await h.now())
            handle = await h.start(example("question", friday))
            status = await h.until(handle, lambda s: "acknowledge" in s.clocks)
            ack = status.clocks["acknowledge"]
            new_york = zone("America/New_York")
            # 5 open minutes on Friday, the other 25 from Monday 08:00.
            assert ack.internal_due.astimezone(new_york).strftime("%a %H:%M") == "Mon 08:25"
            assert ack.published_due.astimezone(new_york).strftime("%a %H:%M") == "Mon 08:55"
            await h.skip(timedelta(days=2))  # Sunday evening: nothing is due yet
            assert h.outbox() == []
            assert (await h.status(handle)).clocks["acknowledge"].internal == "pending"
            await h.skip(ack.internal_due - await h.now() + MINUTE)
            status = await h.status(handle)
            assert status.clocks["acknowledge"].internal == "missed"
            assert status.clocks["acknowledge"].published == "met"
            assert kinds(h.outbox()) == ["reply"]
            await keep_history(handle, "friday-evening")

    run(scenario())


def test_a_redelivered_message_is_recorded_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            inquiry = example("question", await h.now())
            handle = await h.start(inquiry)
            await h.say(handle, "any news?", id="m-2")
            await h.say(handle, "any news?", id="m-2")
            await h.say(handle, inquiry.text, id=inquiry.id)  # the first post, delivered again
            await h.skip(MINUTE)
            status = await h.status(handle)
            assert [(m.kind, m.id) for m in status.messages if m.direction == "in"] == [
                ("post", inquiry.id),
                ("message", "m-2"),
            ]
            assert status.duplicate_deliveries == 2
            await keep_history(handle, "duplicate-message")

    run(scenario())


async def _recorded_events(handle: Any) -> list[str]:
    """History events other than workflow tasks (the time-skipping server, unlike a real one,
    keeps the workflow task that ran a validator; a real server discards it)."""
    history = await handle.fetch_history()
    names = [EventType.Name(event.event_type) for event in history.events]
    return [name for name in names if not name.startswith("EVENT_TYPE_WORKFLOW_TASK_")]


async def _rejection(handle: Any, update: Any, request: Any) -> str:
    before = await _recorded_events(handle)
    status_before = await handle.query(InquiryWorkflow.status)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, request)
    assert await _recorded_events(handle) == before, "a rejection writes nothing to the history"
    assert await handle.query(InquiryWorkflow.status) == status_before
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


def test_validators_reject_actions_that_make_no_sense(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            wf = InquiryWorkflow
            await h.until(handle, lambda s: True)  # started: its rules are loaded
            assert "empty" in await _rejection(
                handle, wf.reply, ReplyRequest(agent="Ana", text="  ")
            )
            assert "agent" in await _rejection(handle, wf.reply, ReplyRequest(agent="", text="hi"))
            assert "code is required" in await _rejection(
                handle, wf.resolve, ResolveRequest(agent="Ana", code="")
            )
            assert "not resolved" in await _rejection(
                handle, wf.reopen, ReopenRequest(agent="Ana", reason="why not")
            )
            assert "use supervisor or chat" in await _rejection(
                handle, wf.escalate, EscalateRequest(agent="Ana", to="ceo")
            )
            assert "no template named 'nope'" in await _rejection(
                handle, wf.invite_private, InvitePrivateRequest(agent="Ana", template="nope")
            )
            assert "say who" in await _rejection(
                handle, wf.assign, AssignRequest(agent="Sam", assignee=" ")
            )
            with pytest.raises(WorkflowUpdateFailedError) as unknown:
                await handle.execute_update("refund_everyone", ReplyRequest(agent="A", text="x"))
            assert "known updates" in str(unknown.value.cause)

            await handle.execute_update(wf.acknowledge, AcknowledgeRequest(agent="Ana"))
            assert "already acknowledged" in await _rejection(
                handle, wf.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            await handle.execute_update(wf.resolve, ResolveRequest(agent="Ana", code="answered"))
            assert "already resolved" in await _rejection(
                handle, wf.resolve, ResolveRequest(agent="Ana", code="again")
            )
            assert "reopen it first" in await _rejection(
                handle, wf.invite_private, InvitePrivateRequest(agent="Ana")
            )
            await handle.execute_update(
                wf.reopen, ReopenRequest(agent="Ana", reason="missed a part")
            )
            status = await h.status(handle)
            assert status.step == "resolve" and status.reopens == 1
            await keep_history(handle, "validators")

    run(scenario())


def test_dm_cannot_be_invited_private(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("private-dm", await h.now()))
            await h.until(handle, lambda s: True)  # triage done: its rules are loaded
            assert "already private" in await _rejection(
                handle,
                InquiryWorkflow.invite_private,
                InvitePrivateRequest(agent="Ana"),
            )

    run(scenario())


def test_escalation_to_chat_takes_the_transcript_and_keeps_the_agent(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("account", await h.now()))
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Let's get you back in.")
            )
            await handle.execute_update(
                InquiryWorkflow.escalate,
                EscalateRequest(agent="Ana", to="chat", reason="needs identity check"),
            )
            status = await h.status(handle)
            assert status.agent == "Ana"
            assert [(e.to, e.reason) for e in status.escalations] == [
                ("chat", "needs identity check")
            ]
            handoff = h.outbox()[-1]
            assert handoff["kind"] == "chat_handoff"
            transcript = [(m["by"], m["kind"]) for m in handoff["transcript"]]
            assert transcript == [("t_nguyen", "post"), ("Ana", "reply"), ("flow", "invitation")]
            assert handoff["transcript"][1]["text"] == "Let's get you back in. ^Ana"

    run(scenario())


class RefusingAdapter:
    """The far side of the network says no to every post (e.g. revoked credentials)."""

    name = "refusing"

    def __init__(self) -> None:
        self.attempts = 0

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        self.attempts += 1
        if outbound.kind == "escalation":
            return Delivery(key=outbound.key, id="esc-1", text=text)
        raise ApplicationError("401 invalid token", type="DeliveryRejected", non_retryable=True)

    async def aclose(self) -> None:
        """Nothing to release."""


def test_a_reply_that_cannot_be_delivered_becomes_an_escalation(tmp_path: Path) -> None:
    adapter = RefusingAdapter()

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            result = await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="hello")
            )
            assert result.text is None  # nothing was delivered…
            status = await h.status(handle)
            assert [e.reason for e in status.escalations] == [
                "could not deliver a reply: 401 invalid token"
            ]  # …and a human knows
            assert status.clocks["acknowledge"].internal == "pending"
            assert any(e.event == "delivery_failed" for e in status.timeline)

    run(scenario())
    assert adapter.attempts == 2  # non-retryable: one try for the reply, one for the escalation


def test_long_conversation_continues_as_new_keeping_the_latest(tmp_path: Path) -> None:
    """The state carried across continue-as-new keeps the latest messages and says how many
    came before and which runs' histories hold them; redeliveries are still caught."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()), history_limit=400)
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            for n in range(500):
                await h.say(handle, f"message {n}", id=f"m-{n}")
            await h.say(handle, "message 7", id="m-7")  # a late redelivery, across runs
            await h.skip(MINUTE)
            latest = h.env.client.get_workflow_handle(handle.id)
            status = await latest.query(InquiryWorkflow.status)
            texts = [m.text for m in status.messages if m.kind == "message"]
            assert texts == [f"message {n}" for n in range(500 - len(texts), 500)]
            # The post, the acknowledgement and 500 messages: the latest shown, the rest counted.
            assert len(status.messages) == SHOWN_MESSAGES
            assert status.earlier.messages + len(status.messages) == 502
            assert status.runs > 1 and status.earlier.run_count == status.runs - 1
            assert status.earlier.runs[0] == handle.result_run_id
            assert status.duplicate_deliveries == 1
            assert status.agent == "Ana"
            assert status.clocks["acknowledge"].met_at is not None
            await latest.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Still checking.")
            )
            # One inquiry, one key scope: the first run's id, in every run.
            keys = [
                m.key
                for m in (await latest.query(InquiryWorkflow.status)).messages
                if m.direction == "out"
            ]
            assert [k.rsplit("/", 2)[0] for k in keys if k] == [
                f"{handle.id}/{handle.result_run_id}"
            ]
            assert latest.run_id is None and (await latest.describe()).run_id != handle.run_id
            await latest.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            assert (await latest.query(InquiryWorkflow.status)).step == "follow_up"

    run(scenario())


def test_waiting_on_the_customer_pauses_the_resolve_clock(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await handle.execute_update(
                InquiryWorkflow.assign, AssignRequest(agent="Sam", assignee="Ana")
            )
            await handle.execute_update(
                InquiryWorkflow.reply,
                ReplyRequest(agent="Ana", text="Which size did you order?", pending=True),
            )
            before = (await h.status(handle)).clocks["resolve"]
            assert before.paused
            await h.skip(10 * HOUR)  # the customer takes their time: the 4 h target is not missed
            status = await h.status(handle)
            assert status.waiting_on_customer and status.clocks["resolve"].internal == "pending"
            await h.say(handle, "Size 42")
            await h.skip(MINUTE)
            status = await h.status(handle)
            resolve = status.clocks["resolve"]
            assert not resolve.paused and not status.waiting_on_customer
            assert resolve.internal_due - before.internal_due >= 10 * HOUR
            assert status.clocks["next_reply"].internal == "pending"  # the customer is owed a reply
            assert [e.detail for e in status.timeline if e.event == "assigned"] == [
                "assigned to Ana by Sam"
            ]

    run(scenario())


class FlakyAdapter:
    """The far side fails twice (a 503, a timeout), then accepts; it remembers what it posted."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.posted: list[str] = []

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        if self.failures > 0:
            self.failures -= 1
            raise ApplicationError("503 service unavailable", type="PlatformUnavailable")
        self.posted.append(text)
        return Delivery(key=outbound.key, id=f"post-{len(self.posted)}", text=text)

    async def aclose(self) -> None:
        """Nothing to release."""


def test_a_flaky_platform_is_retried_and_the_reply_posted_once(tmp_path: Path) -> None:
    adapter = FlakyAdapter(failures=2)

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            result = await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="hello")
            )
            assert result.text == "hello ^Ana"
            status = await h.status(handle)
            assert status.escalations == []
            assert status.messages[-1].id == "post-1"

    run(scenario())
    assert adapter.posted == ["hello ^Ana"]


def test_a_platform_down_for_good_escalates_after_the_retries(tmp_path: Path) -> None:
    adapter = FlakyAdapter(failures=6)  # every attempt the retry policy allows

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            await h.until(handle, lambda s: True)  # triage done: its rules are loaded
            update = await handle.start_update(
                InquiryWorkflow.reply,
                ReplyRequest(agent="Ana", text="hello"),
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            )
            await h.skip(2 * MINUTE)  # the backoff between attempts: 1+2+4+8+16 s
            assert (await update.result()).text is None
            status = await h.status(handle)
            assert [e.to for e in status.escalations] == ["supervisor"]
            assert "503 service unavailable" in status.escalations[0].reason

    run(scenario())
    # Six attempts, then only the escalation got through: a supervisor knows, nothing is lost.
    assert adapter.posted == ["could not deliver a reply: 503 service unavailable (agent: Ana)"]


class PostThenLoseTheAnswer(SandboxAdapter):
    """The platform accepts the first post, but the answer is lost (a timeout, a dropped
    connection, a worker that dies before reporting): the activity fails after posting."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        self.calls += 1
        delivery = await super().deliver(outbound, text)
        if self.calls == 1:
            raise ConnectionResetError("connection reset after the post was accepted")
        return delivery


def test_a_post_whose_answer_was_lost_is_not_posted_twice(tmp_path: Path) -> None:
    adapter = PostThenLoseTheAnswer(tmp_path / "outbox.jsonl")

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            result = await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry, we're on it.")
            )
            assert result.text == "Sorry, we're on it. ^Ana"
            status = await h.status(handle)
            outgoing = [m.text for m in status.messages if m.direction == "out"]
            assert outgoing == ["Sorry, we're on it. ^Ana"]
            assert [line["text"] for line in h.outbox()] == ["Sorry, we're on it. ^Ana"]

    run(scenario())
    assert adapter.calls == 2  # the retry ran, and found the key already posted


async def _start_again(h: Any, workflow_id: str, inquiry: Any) -> Any:
    """A new inquiry in a conversation whose last one closed: the same workflow id, a new run,
    as the intake starts it (signal-with-start, ``ALLOW_DUPLICATE``)."""
    return await h.env.client.start_workflow(
        InquiryWorkflow.run,
        InquiryInput(inquiry=inquiry, search_attributes=False),
        id=workflow_id,
        task_queue=h.settings.temporal.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal="customer_message",
        start_signal_args=[first_message(inquiry)],
    )


def test_a_new_inquiry_in_a_closed_conversation_is_answered_too(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            first = await h.start(example("question", await h.now()))
            await first.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Size 44 is in stock.")
            )
            await first.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(24 * HOUR + MINUTE)
            await h.say(first, "All sorted now, thank you!")
            assert (await first.result()).kind == "closed"
            sent_before = h.outbox()
            assert kinds(sent_before) == ["reply", "follow_up"]

            # A week later the customer writes again in the same conversation: a new inquiry.
            await h.skip(7 * 24 * HOUR)
            again = example(
                "question", await h.now(), id="1860000000000000099", text="@acme and in 45?"
            )
            second = await _start_again(h, first.id, again)
            assert second.id == first.id and second.result_run_id != first.result_run_id
            await second.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="45 is sold out, sorry.")
            )
            outbox = h.outbox()
            assert [e["text"] for e in outbox[len(sent_before) :]] == [
                "45 is sold out, sorry. ^Ana"
            ]
            status = await h.status(second)
            (reply,) = [m for m in status.messages if m.direction == "out"]
            assert reply.id not in {e["id"] for e in sent_before}  # a post of its own
            assert reply.key is not None
            assert reply.key.startswith(f"{first.id}/{second.result_run_id}/")
            await keep_history(second, "new-inquiry-same-conversation")

    run(scenario())


FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_post_dated_far_in_the_future_is_escalated_not_stuck(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", FAR_FUTURE))
            # Both clocks' fallbacks are noted (a query may land between the two).
            status = await h.until(
                handle,
                lambda s: (
                    bool(s.escalations)
                    and sum(e.event == "unexpected_error" for e in s.timeline) == 2
                ),
            )
            started = await h.now()
            # The calendar cannot count from year 9999: a supervisor is told once, with why…
            [escalation] = status.escalations
            assert (escalation.to, escalation.by) == ("supervisor", "careflow")
            assert escalation.reason == (
                "unexpected error in the clocks: OverflowError: date value out of range"
            )
            assert kinds(h.outbox()) == ["escalation"]
            assert "OverflowError: date value out of range" in h.outbox()[0]["text"]
            notes = [e.detail for e in status.timeline if e.event == "unexpected_error"]
            assert len(notes) == 2 and all("around the clock" in n for n in notes)
            # …and the clocks run around the clock from when careflow got the post.
            ack = status.clocks["acknowledge"]
            assert started - MINUTE <= ack.started_at <= started
            assert ack.internal_due == ack.started_at + 30 * MINUTE
            await h.skip(31 * MINUTE)
            status = await h.status(handle)
            assert status.clocks["acknowledge"].internal == "missed"
            assert "safety-net-ack" in status.fired
            # The ack template's due times cannot be counted either: not sent, noted, and the
            # supervisor already knows this error; an agent can still answer in their own words.
            assert len(status.escalations) == 1
            reply = await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Hi Jules, yes we do.")
            )
            assert reply.text == "Hi Jules, yes we do. ^Ana"
            assert kinds(h.outbox()) == ["escalation", "reply"]
            await keep_history(handle, "future-post-escalated")

    run(scenario())


def test_rules_that_raise_escalate_and_the_inquiry_carries_on(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            await h.say(handle, "any news?")
            status = await h.until(handle, lambda s: bool(s.escalations))
            assert [(e.to, e.reason) for e in status.escalations] == [
                (
                    "supervisor",
                    "unexpected error in the customer.message rules: "
                    "ZeroDivisionError: integer division or modulo by zero",
                )
            ]
            assert [m.text for m in status.messages if m.direction == "in"][-1] == "any news?"
            assert status.clocks["next_reply"].internal == "pending"  # still counting
            assert any(e.event == "unexpected_error" for e in status.timeline)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Tomorrow.")
            )
            status = await h.status(handle)
            assert status.clocks["next_reply"].met_at is not None
            assert kinds(h.outbox()) == ["reply", "escalation", "reply"]
            await keep_history(handle, "rules-error", FAULT_HISTORIES)

    with rules_break_on_customer_messages():
        run(scenario())


def test_an_inquiry_stuck_before_the_patch_is_escalated_once_it_is_deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            # The code before the last line of defence: the error fails the workflow task.
            monkeypatch.setattr(faults, "recoverable", lambda error: False)
            handle = await h.start(example("question", FAR_FUTURE))
            await asyncio.sleep(2)  # triage fails, again and again
            monkeypatch.undo()  # the fix is deployed: the next attempt runs it
            status = await h.until(handle, lambda s: bool(s.escalations), timeout=60)
            assert status.escalations[0].reason.endswith("OverflowError: date value out of range")
            assert "acknowledge" in status.clocks

    run(scenario())
