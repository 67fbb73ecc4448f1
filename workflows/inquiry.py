"""The inquiry workflow: one post, five steps, its clocks, and the rules that drive it.

acknowledge → privatize → resolve → follow_up → closed. The rule file is loaded once, by an
activity, so the exact rules (and their hash) are in the history and stay with the inquiry for
its whole life. Rules run on every event (``received``, ``customer.message``, ``window.*``, …);
their actions become activity calls (``deliver``) or state changes. Clocks are pure state
(``workflows.clocks``); the main loop sleeps until the next deadline or message.

Customer messages arrive by signal (deduplicated by platform message id). Agent actions are
Updates with validators, so an action that makes no sense is rejected before it reaches the
history. Every handler and the main loop take one lock: state changes never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, assert_never

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.types import DELIVER, LOAD_RULES, Delivery, RulesSource
    from careflow.engine.ruleset import Decision, Ruleset, compiled_ruleset
    from workflows import interpreter, metrics, outbound, search, timing, validators
    from workflows.clocks import (
        ClockEvent,
    )
    from workflows.messages import (
        WORKFLOW_NAME,
        AcknowledgeRequest,
        ActionResult,
        AssignRequest,
        EscalateRequest,
        InquiryInput,
        InquiryResult,
        InvitePrivateRequest,
        ReopenRequest,
        ReplyRequest,
        ResolveRequest,
    )
    from workflows.outbound import CUSTOMER_FACING, Send
    from workflows.state import (
        BrandMessage,
        CustomerMessage,
        Escalation,
        FiredRule,
        InquiryState,
        InquiryStatus,
        Message,
        TimelineEntry,
        ValuesState,
        status_of,
    )

RULES_TIMEOUT = timedelta(seconds=30)
# A broken or missing rule file is retried until someone fixes it: the inquiry waits, it is not lost.
RULES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
DELIVERY_TIMEOUT = timedelta(seconds=10)  # a platform call slower than this is a failed attempt
# About a minute of retries, then a human takes over (an escalation), never a silent loss.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=["TemplateRenderError", "EmptyMessage", "DeliveryRejected"],
)
# Search attributes for the SLA report, added after inquiries were already running.
SLA_ATTRIBUTES_PATCH = "sla-search-attributes"
# A chat hand-off whose service answers with a session link sends the customer that link.
CHAT_LINK_PATCH = "chat-link"
R = TypeVar("R")
# A pure check of an agent action (workflows.validators): the refusal sentence, or None.
Check = Callable[[InquiryState | None, Ruleset | None, R], str | None]


def _rejected(message: str) -> ApplicationError:
    """An agent action that makes no sense now: the update fails with this sentence."""
    return ApplicationError(message, type="ActionRejected", non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class InquiryWorkflow:
    """One inquiry, from the first post to close."""

    @workflow.init
    def __init__(self, input: InquiryInput) -> None:
        self._input = input
        self._ruleset: Ruleset | None = None
        self._state: InquiryState | None = None
        carried = input.state
        self._inbox: list[CustomerMessage] = list(carried.inbox) if carried else []
        self._brand_inbox: list[BrandMessage] = list(carried.brand_inbox) if carried else []
        # Insertion-ordered, so the carried list is identical on every replay.
        self._seen: dict[str, None] = dict.fromkeys(carried.seen_message_ids if carried else [])
        self._duplicates = carried.duplicate_deliveries if carried else 0
        self._lock = asyncio.Lock()
        self._changed = False
        self._clock_events: list[tuple[ClockEvent, str]] = []
        self._indexed: dict[str, Any] = {}

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: InquiryInput) -> InquiryResult:
        if input.state is None:
            source = await workflow.execute_activity(
                LOAD_RULES,
                input.rules_path,
                result_type=RulesSource,
                start_to_close_timeout=RULES_TIMEOUT,
                retry_policy=RULES_RETRY,
            )
            self._ruleset = compiled_ruleset(source.text, source.digest, source.file)
            self._state = InquiryState(
                inquiry=input.inquiry,
                rules=source,
                values=ValuesState.of(self._ruleset.defaults),
            )
            async with self._lock:
                await self._triage()
                self._index()
            if self.state.step == "closed":
                # An action that arrived meanwhile is answered (rejected: closed), not cut off.
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self._result("dropped")
        else:
            carried = input.state
            self._ruleset = compiled_ruleset(
                carried.rules.text, carried.rules.digest, carried.rules.file
            )
            self._state = carried.model_copy(
                update={"inbox": [], "brand_inbox": [], "runs": carried.runs + 1}
            )
            self._index()

        while self.state.step != "closed":
            if self._should_continue_as_new():
                await self._continue_as_new()
            await self._wait()
            async with self._lock:
                await self._catch_up()
                self._index()

        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self._lock:
            self._record_late_messages()
            self._index()
        return self._result("closed")

    @property
    def state(self) -> InquiryState:
        assert self._state is not None, "state exists once the rules are loaded"
        return self._state

    @property
    def ruleset(self) -> Ruleset:
        assert self._ruleset is not None, "the ruleset is loaded first"
        return self._ruleset

    # ------------------------------------------------------------------ messages in

    @workflow.signal(name="customer_message")
    def customer_message(self, message: CustomerMessage) -> None:
        """The customer wrote again; a redelivery of a message already seen changes nothing.

        The first post itself comes this way too (signal-with-start): it is the inquiry, already
        recorded, so only its id is kept.
        """
        if self._first_time(message.id) and message.id != self._input.inquiry.id:
            self._inbox.append(message)

    @workflow.signal(name="brand_message")
    def brand_message(self, message: BrandMessage) -> None:
        """The brand posted in the conversation on the platform itself (an agent answering in
        the platform's own app): it counts as an agent's reply. A redelivery changes nothing."""
        if self._first_time(message.id):
            self._brand_inbox.append(message)

    def _first_time(self, message_id: str) -> bool:
        """Whether a platform message id is new; a redelivery is counted and changes nothing."""
        if message_id in self._seen:
            self._duplicates += 1
            return False
        self._seen[message_id] = None
        return True

    @workflow.query(name="status")
    def status(self) -> InquiryStatus:
        """Where the inquiry stands: step, values, rules fired, clocks, messages, timeline."""
        if self._state is None:
            raise ApplicationError("the inquiry is still starting: its rules are loading")
        return status_of(self._synced(), workflow.info().workflow_id)

    # ------------------------------------------------------------------ agent actions

    @workflow.update
    async def acknowledge(self, request: AcknowledgeRequest) -> ActionResult:
        async def act() -> ActionResult:
            agent = request.agent.strip()
            if self.state.agent is None:
                self.state.agent = agent
            text = (request.text or "").strip() or None
            message = await self._send(
                Send(
                    "reply",
                    agent,
                    text=text,
                    template_name=None if text else "ack",
                    human=True,
                    signature=agent,
                )
            )
            self._note("acknowledged", f"{agent} acknowledged the inquiry")
            if message is not None:
                await self._run_event("agent.message", self._message_fields(message))
            return self._action_result("acknowledged", message)

        return await self._agent_action(validators.acknowledge, request, act)

    @acknowledge.validator
    def _validate_acknowledge(self, request: AcknowledgeRequest) -> None:
        self._refuse(validators.acknowledge, request)

    @workflow.update
    async def reply(self, request: ReplyRequest) -> ActionResult:
        async def act() -> ActionResult:
            agent = request.agent.strip()
            if self.state.agent is None:
                self.state.agent = agent
            message = await self._send(
                Send(
                    "reply",
                    agent,
                    text=request.text,
                    private=request.private,
                    human=True,
                    signature=agent,
                )
            )
            if message is not None and request.pending:
                self._clock_events += timing.wait_on_customer(self.state, workflow.now())
            if message is not None:
                await self._run_event("agent.message", self._message_fields(message))
            return self._action_result("replied", message)

        return await self._agent_action(validators.reply, request, act)

    @reply.validator
    def _validate_reply(self, request: ReplyRequest) -> None:
        self._refuse(validators.reply, request)

    @workflow.update
    async def invite_private(self, request: InvitePrivateRequest) -> ActionResult:
        async def act() -> ActionResult:
            agent = request.agent.strip()
            template = request.template or self.ruleset.rule_file.flow.privatize.template
            message = await self._invite(template, agent, human=True)
            return self._action_result("invited to a private channel", message)

        return await self._agent_action(validators.invite_private, request, act)

    @invite_private.validator
    def _validate_invite_private(self, request: InvitePrivateRequest) -> None:
        self._refuse(validators.invite_private, request)

    @workflow.update
    async def resolve(self, request: ResolveRequest) -> ActionResult:
        async def act() -> ActionResult:
            await self._resolve(request.code.strip(), request.note, request.agent.strip())
            return self._action_result(f"resolved with code {request.code.strip()}", None)

        return await self._agent_action(validators.resolve, request, act)

    @resolve.validator
    def _validate_resolve(self, request: ResolveRequest) -> None:
        self._refuse(validators.resolve, request)

    @workflow.update
    async def reopen(self, request: ReopenRequest) -> ActionResult:
        async def act() -> ActionResult:
            reason = request.reason.strip() or "reopened by an agent"
            await self._reopen(reason, request.agent.strip())
            return self._action_result("reopened", None)

        return await self._agent_action(validators.reopen, request, act)

    @reopen.validator
    def _validate_reopen(self, request: ReopenRequest) -> None:
        self._refuse(validators.reopen, request)

    @workflow.update
    async def assign(self, request: AssignRequest) -> ActionResult:
        async def act() -> ActionResult:
            assignee = request.assignee.strip()
            self.state.agent = assignee
            self._note("assigned", f"assigned to {assignee} by {request.agent.strip()}")
            return self._action_result(f"assigned to {assignee}", None)

        return await self._agent_action(validators.assign, request, act)

    @assign.validator
    def _validate_assign(self, request: AssignRequest) -> None:
        self._refuse(validators.assign, request)

    @workflow.update
    async def escalate(self, request: EscalateRequest) -> ActionResult:
        async def act() -> ActionResult:
            reason = (request.reason or "").strip() or f"escalated by {request.agent.strip()}"
            await self._escalate(request.to, reason, request.agent.strip())
            return self._action_result(f"escalated to {request.to}", None)

        return await self._agent_action(validators.escalate, request, act)

    @escalate.validator
    def _validate_escalate(self, request: EscalateRequest) -> None:
        self._refuse(validators.escalate, request)

    def _refuse(self, check: Check[R], request: R) -> None:
        """Fail the update with the check's sentence, if it has one. While the rules are still
        loading only the request itself is checked; the handler checks again once they are."""
        refusal = check(self._state, self._ruleset, request)
        if refusal is not None:
            raise _rejected(refusal)

    async def _agent_action(
        self, check: Check[R], request: R, act: Callable[[], Awaitable[ActionResult]]
    ) -> ActionResult:
        """Run an agent action under the lock, re-checked: the inquiry may have moved on while
        the update waited for the lock (the validator only saw the state at delivery)."""
        await workflow.wait_condition(lambda: self._ruleset is not None)
        async with self._lock:
            await self._catch_up()
            self._refuse(check, request)
            result = await act()
            await self._advance()
            await self._drain_clock_events()
            self._changed = True
            self._index()
            return result.model_copy(update={"step": self.state.step})

    def _action_result(self, detail: str, message: Message | None) -> ActionResult:
        return ActionResult(
            step=self.state.step, detail=detail, text=message.text if message else None
        )

    # ------------------------------------------------------------------ the loop

    async def _wait(self) -> None:
        """Sleep until the next deadline, a customer message, or an agent action."""
        wake = timing.next_wake(self.state, self.ruleset)
        now = workflow.now()
        if (wake is not None and wake <= now) or self._inbox or self._brand_inbox or self._changed:
            self._changed = False
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: bool(self._inbox) or bool(self._brand_inbox) or self._changed,
                timeout=(wake - now) if wake is not None else None,
            )
        self._changed = False

    async def _catch_up(self) -> None:
        """Handle everything due by now: deadlines, flow timers, then messages, in that order."""
        now = workflow.now()
        self._clock_events += timing.passed(self.state, now)
        await self._drain_clock_events()
        await self._flow_timers(now)
        while self._inbox and self.state.step != "closed":
            await self._on_customer_message(self._inbox.pop(0))
        while self._brand_inbox and self.state.step != "closed":
            await self._on_brand_message(self._brand_inbox.pop(0))
        await self._advance()
        await self._drain_clock_events()

    async def _drain_clock_events(self) -> None:
        while self._clock_events and self.state.step != "closed":
            event, clock = self._clock_events.pop(0)
            label = {
                "window.warning": "warning",
                "window.internal": "internal target passed",
                "window.published": "published window missed",
            }[event]
            self._note(event, f"{clock} clock: {label}")
            metrics.deadline_passed(clock, event)
            await self._run_event(event, {"clock": clock})
        self._clock_events.clear()

    async def _flow_timers(self, now: datetime) -> None:
        """The invitation's reminder and give-up, the follow-up and the silence after it."""
        state, ruleset, flow = self.state, self.ruleset, self.ruleset.rule_file.flow
        reminder = timing.reminder_due(state, ruleset)
        if reminder is not None and now >= reminder:
            state.reminded_at = now
            template = flow.privatize.reminder_template or flow.privatize.template
            await self._send(Send("reminder", "flow", template_name=template))
            await self._run_event("privatize.reminder", {})
        give_up = timing.give_up_due(state, ruleset)
        if give_up is not None and now >= give_up:
            self._note("privatize.given_up", "no private message came: staying public")
            state.step = "resolve"
            timing.stop_waiting(state, ruleset, now)
            await self._run_event("privatize.given_up", {})
        follow_up = timing.follow_up_due(state, ruleset)
        silence = timing.silence_due(state, ruleset)
        if follow_up is not None and now >= follow_up:
            state.follow_up_sent_at = now
            follow_up_message = Send(
                "follow_up",
                "flow",
                template_name=flow.follow_up.template,
                private=state.private_channel,
            )
            await self._send(follow_up_message)
        elif silence is not None and now >= silence:
            await self._run_event("follow_up.silent", self._resolution_fields())
            if state.step == "follow_up":
                await self._close("no answer to the follow-up", "flow")

    async def _advance(self) -> None:
        """Leave the acknowledge step once its clock is met (or gone)."""
        state = self.state
        if state.step != "acknowledge":
            return
        clock = state.clocks.get("acknowledge")
        if clock is not None and not clock.finished:
            return
        if state.values.privatize == "required" and not state.private_channel:
            template = self.ruleset.rule_file.flow.privatize.template
            if await self._invite(template, "flow", human=False) is not None:
                return
        if state.step == "acknowledge":
            state.step = "resolve"
            self._note("step", "now in resolve")

    # ------------------------------------------------------------------ steps

    async def _triage(self) -> None:
        """Run the ``received`` rules, start the clocks, and act."""
        state, inquiry = self.state, self.state.inquiry
        state.messages.append(
            Message(
                at=inquiry.created_at,
                direction="in",
                private=inquiry.kind == "private",
                text=inquiry.text,
                by=inquiry.author.handle,
                kind="post",
                id=inquiry.id,
            )
        )
        self._note(
            "received",
            f"{inquiry.kind} {inquiry.channel} post by @{inquiry.author.handle}",
            at=inquiry.created_at,
        )
        decision = self._evaluate("received", {})
        if decision.dropped:
            state.step = "closed"
            state.closed_at = workflow.now()
            state.close_reason = f"dropped: {decision.drop_reason}"
            self._note("dropped", f"dropped as {decision.drop_reason} by {decision.fired[-1]}")
            metrics.inquiry_dropped(inquiry.channel, decision.drop_reason or "")
            return
        values = state.values
        self._note(
            "triaged",
            f"category {values.category}, priority {values.priority}, queue {values.queue}, "
            f"windows {values.windows}, privatize {values.privatize}",
        )
        metrics.inquiry_started(inquiry.channel, values.category, values.priority)
        for clock in ("acknowledge", "resolve"):
            timing.restart_clock(state, self.ruleset, clock, inquiry.created_at)
        await self._act(decision)
        await self._catch_up()

    async def _on_brand_message(self, posted: BrandMessage) -> None:
        """A reply made on the platform: recorded and counted like an agent's, unless it is one
        of careflow's own posts coming back (its id is among the messages sent)."""
        state = self.state
        ours = {
            id
            for message in state.messages
            if message.direction == "out"
            for id in (message.id, *message.also)
        }
        if posted.id in ours:
            return
        now = workflow.now()
        message = Message(
            at=min(posted.at, now),
            direction="out",
            private=posted.private,
            text=posted.text,
            by=posted.by,
            kind="native_reply",
            id=posted.id,
        )
        # The clocks count it when careflow learns of it: a webhook's delay is never credited.
        self._record_sent(message, "native_reply", human=True, at=now)
        await self._run_event("agent.message", self._message_fields(message))

    async def _on_customer_message(self, message: CustomerMessage) -> None:
        state, now = self.state, workflow.now()
        at = min(message.at, now)
        state.messages.append(
            Message(
                at=message.at,
                direction="in",
                private=message.private,
                text=message.text,
                by=state.inquiry.author.handle,
                kind="message",
                id=message.id,
            )
        )
        where = "privately" if message.private else "publicly"
        self._note("customer.message", f"@{state.inquiry.author.handle} wrote {where}")
        fields = {"message.text": message.text, "message.private": message.private}
        if state.step == "follow_up":
            await self._run_event("follow_up.reply", {**fields, **self._resolution_fields()})
            if state.step == "follow_up":
                await self._reopen("the customer wrote after the resolution", "flow")
            return
        if message.private and state.private_at is None:
            state.private_at = now
            self._note("privatized", "the conversation continues privately")
            if state.step == "privatize":
                state.step = "resolve"
        timing.stop_waiting(state, self.ruleset, now)
        acknowledge = state.clocks.get("acknowledge")
        next_reply = state.clocks.get("next_reply")
        if (acknowledge is None or acknowledge.finished) and (
            next_reply is None or next_reply.finished
        ):
            timing.restart_clock(state, self.ruleset, "next_reply", at)
        await self._run_event("customer.message", fields)

    async def _invite(self, template: str, by: str, *, human: bool) -> Message | None:
        """Invite the customer to a private channel and wait on them (resolve clock paused)."""
        state = self.state
        message = await self._send(
            Send(
                "invitation",
                by,
                template_name=template,
                human=human,
                signature=by if human else None,
            )
        )
        if message is None:
            return None
        state.invited_at = workflow.now()
        state.reminded_at = None
        if state.step in ("acknowledge", "resolve"):
            state.step = "privatize"
        self._note("privatize", "invited the customer to a private channel")
        self._clock_events += timing.wait_on_customer(self.state, workflow.now())
        return message

    async def _resolve(self, code: str, note: str | None, agent: str) -> None:
        state, now = self.state, workflow.now()
        self._clock_events += timing.resolved(state, now)
        await self._drain_clock_events()
        state.waiting_on_customer = False
        state.resolved_at = now
        state.resolution_code = code
        state.resolution_note = note
        state.follow_up_sent_at = None
        state.step = "follow_up"
        self._note(
            "resolved", f"resolved by {agent} with code {code}" + (f": {note}" if note else "")
        )
        await self._run_event("resolved", self._resolution_fields())

    async def _reopen(self, reason: str, by: str) -> None:
        state = self.state
        state.reopens += 1
        state.step = "resolve"
        state.follow_up_sent_at = None
        self._note("reopened", f"reopened by {by}: {reason}")
        timing.restart_clock(state, self.ruleset, "resolve", workflow.now())
        await self._run_event("reopened", {})

    async def _close(self, reason: str, by: str) -> None:
        state, now = self.state, workflow.now()
        self._clock_events += timing.passed(state, now)
        await self._drain_clock_events()
        timing.stop_all(state, now)
        for clock in [*state.earlier_clocks, *state.clocks.values()]:
            metrics.clock_closed(clock.name, clock.internal, clock.published)
        state.step = "closed"
        state.closed_at = now
        state.close_reason = reason
        state.waiting_on_customer = False
        self._note("closed", f"closed by {by}: {reason}")
        await self._run_event("closed", self._resolution_fields())

    async def _escalate(self, to: str, reason: str, by: str) -> None:
        state = self.state
        state.escalations.append(Escalation(at=workflow.now(), to=to, reason=reason, by=by))
        metrics.escalated(to)
        self._note("escalated", f"escalated to {to} by {by}: {reason}")
        handoff = await self._send(outbound.escalation(state, to, reason, by))
        if handoff is not None and handoff.link and workflow.patched(CHAT_LINK_PATCH):
            # The same agent carries on in the chat; the customer gets the way there privately.
            self._note("chat", f"chat session {handoff.id} opened for {state.agent or 'the team'}")
            await self._send(outbound.chat_link(state, handoff.link, by))

    # ------------------------------------------------------------------ rules

    def _evaluate(self, event: str, fields: dict[str, Any]) -> Decision:
        """Run the rules for ``event``; record what fired and the values they set."""
        state = self.state
        extra: dict[str, Any] | None = None
        if event != "received":
            extra = {
                "step": state.step,
                "agent.name": state.agent,
                "reopens": state.reopens,
                **fields,
            }
        decision = self.ruleset.evaluate(event, state.inquiry, state.values.values(), extra)
        now = workflow.now()
        for rule in decision.fired:
            state.fired.append(
                FiredRule(at=now, event=event, rule=rule, why=decision.why.get(rule, []))
            )
        if decision.fired:
            self._note("rules", f"{event}: {', '.join(decision.fired)}")
        state.values = ValuesState.of(decision.values)
        return decision

    async def _run_event(self, event: str, fields: dict[str, Any]) -> None:
        await self._act(self._evaluate(event, fields))

    async def _act(self, decision: Decision) -> None:
        """Carry out a decision's effects in order, each if it still applies when its turn comes."""
        for effect in interpreter.effects(decision):
            if interpreter.applies(effect, self.state):
                await self._apply(effect)

    async def _apply(self, effect: interpreter.Effect) -> None:
        match effect:
            case Send():
                await self._send(effect)
            case interpreter.Invite(template, by):
                await self._invite(template, by, human=False)
            case interpreter.Notify(target, template, by):
                await self._notify(target, template, by)
            case interpreter.Escalate(to, reason, by):
                await self._escalate(to, reason, by)
            case interpreter.Reopen(reason, by):
                await self._reopen(reason, by)
            case interpreter.Close(reason, by):
                await self._close(reason, by)
            case _:
                assert_never(effect)

    async def _notify(self, target: str, template: str | None, by: str) -> None:
        message = await self._send(
            outbound.notification(self.state, self.ruleset, target, template, by)
        )
        if message is not None:
            self._note("notified", f"notified {target}: {message.text}")

    # ------------------------------------------------------------------ sending

    async def _send(self, send: Send) -> Message | None:
        """Deliver one message through the ``deliver`` activity.

        The key (workflow id / step / sequence) makes retries safe. A message that cannot be
        delivered becomes an escalation to a supervisor; a failed escalation is recorded.
        """
        state = self.state
        state.sequence += 1
        key = outbound.key(workflow.info().workflow_id, state)
        try:
            delivery = await workflow.execute_activity(
                DELIVER,
                outbound.build(send, key, state, self.ruleset),
                result_type=Delivery,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            cause = error.cause.message if isinstance(error.cause, ApplicationError) else error
            self._note("delivery_failed", f"could not deliver {send.kind} {key}: {cause}")
            if send.kind not in ("escalation", "chat_handoff"):
                await self._escalate(
                    "supervisor", f"could not deliver a {send.kind}: {cause}", "careflow"
                )
            return None
        message, moved = outbound.delivered(send, key, delivery, state, workflow.now())
        if moved is not None:
            self._note("moved", f"{send.kind} {key} was sent privately: {moved}")
        if send.kind in CUSTOMER_FACING:
            self._record_sent(message, send.kind, send.human)
        return message

    def _record_sent(
        self, message: Message, kind: str, human: bool, at: datetime | None = None
    ) -> None:
        """A message the customer got: in the record, and it meets the reply clocks (at ``at``,
        by default when it was sent)."""
        state, now, inquiry = self.state, at or message.at, self.state.inquiry
        state.messages.append(message)
        if state.first_response_at is None:
            state.first_response_at = now
            metrics.first_response(
                inquiry.channel, max(now - inquiry.created_at, timedelta(0)), human
            )
        where = " (private)" if message.private else ""
        self._note("message.out", f"{kind} by {message.by}{where}")
        self._clock_events += timing.replied(state, now, human=human)

    # ------------------------------------------------------------------ helpers

    def _note(self, event: str, detail: str, at: datetime | None = None) -> None:
        self.state.timeline.append(
            TimelineEntry(at=at or workflow.now(), event=event, detail=detail)
        )

    def _message_fields(self, message: Message) -> dict[str, Any]:
        return {"message.text": message.text, "message.private": message.private}

    def _resolution_fields(self) -> dict[str, Any]:
        return {"resolution.code": self.state.resolution_code}

    def _record_late_messages(self) -> None:
        """Messages that arrived while the inquiry closed: kept in the record, never dropped."""
        for message in self._inbox:
            self.state.messages.append(
                Message(
                    at=message.at,
                    direction="in",
                    private=message.private,
                    text=message.text,
                    by=self.state.inquiry.author.handle,
                    kind="after_close",
                    id=message.id,
                )
            )
            self._note("customer.message", "the customer wrote as the inquiry closed")
        self._inbox.clear()

    def _synced(self) -> InquiryState:
        """The state with the signal-side bookkeeping folded in."""
        state = self.state
        state.seen_message_ids = list(self._seen)
        state.duplicate_deliveries = self._duplicates
        state.inbox = list(self._inbox)
        state.brand_inbox = list(self._brand_inbox)
        return state

    def _index(self) -> None:
        """Keep the search attributes current (only the ones that changed are written)."""
        if not self._input.search_attributes or self._state is None:
            return
        wanted = search.wanted(self._state, sla=workflow.patched(SLA_ATTRIBUTES_PATCH))
        updates = search.changes(self._indexed, wanted)
        if updates:
            workflow.upsert_search_attributes(updates)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_limit
        )

    async def _continue_as_new(self) -> None:
        """Start a fresh run with the whole state once every handler has finished."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._note(
            "continued_as_new",
            f"history reached {workflow.info().get_current_history_length()} events: run "
            f"{self.state.runs + 1} carries on",
        )
        workflow.continue_as_new(self._input.model_copy(update={"state": self._synced()}))

    def _result(self, kind: str) -> InquiryResult:
        state = self._synced()
        created = state.inquiry.created_at

        def since_post(at: datetime | None) -> float | None:
            return (at - created).total_seconds() if at is not None else None

        return InquiryResult(
            status=status_of(state, workflow.info().workflow_id),
            reason=state.close_reason or "",
            resolution_code=state.resolution_code,
            first_response_seconds=since_post(state.first_response_at),
            resolution_seconds=since_post(state.resolved_at),
            kind="dropped" if kind == "dropped" else "closed",
        )
