"""What happens to an inquiry at each step: triage, messages in, deadlines and flow timers,
agent actions, the rules' effects, and sending. The workflow (``workflows.inquiry``) runs these
under its one lock; this class knows nothing of updates, signals or continue-as-new.

Each change of step runs its rules (``run_event``), whose effects may change the step again:
a reopen runs the ``reopened`` rules, an undeliverable message becomes an escalation. These
calls nest on purpose, so the activities are scheduled in the same order on every replay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, assert_never

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.types import DELIVER, Delivery, Outbound
    from careflow.engine.calendars import ALWAYS
    from careflow.engine.limits import evaluated_limit
    from careflow.engine.rating import ReadRating
    from careflow.engine.ruleset import Decision, Ruleset
    from workflows import bounded, faults, interpreter, metrics, outbound, qa_start, rating, timing
    from workflows.outbound import CUSTOMER_FACING, Send
    from workflows.state import (
        BrandMessage,
        CustomerMessage,
        EarlierText,
        Escalation,
        FiredRule,
        InquiryState,
        Message,
        MessageChange,
        TimelineEntry,
        ValuesState,
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
# A chat hand-off whose service answers with a session link sends the customer that link.
CHAT_LINK_PATCH = "chat-link"
# Rules read a text only up to its channel's limit (careflow.engine.limits); asked only when a
# text is longer, so other inquiries' histories carry no marker for it.
BOUNDED_TEXT_PATCH = "bounded-text"
# An agent who resolves an unassigned inquiry becomes its assignee, so a resolved (and a
# reopened, and a closed) inquiry says who owns it; asked only then, so other inquiries'
# histories carry no marker for it.
RESOLVER_ASSIGNED_PATCH = "resolver-assigned"
# A native reply meets the reply clocks when careflow learns of it (a webhook's delay is never
# credited); before this patch, at the post's own time. Asked only when a native reply comes, so
# other inquiries' histories carry no marker for it.
NATIVE_REPLY_PATCH = "native-reply-when-learned"
# A template's ``deliver`` input carries only the variables it reads (no customer text it does
# not show); before this patch, all of them. Asked only when a template is sent.
LEAN_VARIABLES_PATCH = "privacy-deliver-variables"
# A message keeps its first text and this many later ones it had before edits (Messenger allows
# five edits; careflow keeps the record bounded whatever a platform allows).
EARLIER_TEXTS = 5
MEMO_TEXT = 280  # what the queue shows of the first post (as the intake's memo)
WITHDRAWN_MEMO = "(unsent by the customer)"
T = TypeVar("T")


def message_fields(message: Message) -> dict[str, Any]:
    """What the ``agent.message`` rules read of a reply."""
    return {"message.text": message.text, "message.private": message.private}


class StepMachine:
    """One inquiry's state and rules, and everything that moves it from step to step.

    ``inbox``, ``brand_inbox`` and ``changes`` are the workflow's own lists, filled by its
    signals.
    """

    def __init__(
        self,
        state: InquiryState,
        ruleset: Ruleset,
        inbox: list[CustomerMessage],
        brand_inbox: list[BrandMessage],
        changes: list[MessageChange] | None = None,
        *,
        memo: bool = False,
        bounded: bool = False,
    ) -> None:
        self.state = state
        self.ruleset = ruleset
        self._inbox = inbox
        self._brand_inbox = brand_inbox
        self._changes: list[MessageChange] = changes if changes is not None else []
        self._memo = memo  # whether the server keeps memos current (not the time-skipping one)
        self._keeps_latest = bounded  # the bounded-state patch: keep the latest of each list
        self._clock_events: timing.Passed = []

    # ------------------------------------------------------------------ agent actions

    async def acknowledge(self, agent: str, text: str | None) -> Message | None:
        """The agent takes the inquiry and answers publicly (their text, or the ack template)."""
        if self.state.agent is None:
            self.state.agent = agent
        message = await self.send(
            Send(
                "reply",
                agent,
                text=text,
                template_name=None if text else "ack",
                human=True,
                signature=agent,
            )
        )
        self.note("acknowledged", f"{agent} acknowledged the inquiry")
        if message is not None:
            await self.run_event("agent.message", message_fields(message))
        return message

    async def reply(self, agent: str, text: str, *, private: bool, pending: bool) -> Message | None:
        """An agent's message; ``pending``: the team now waits on the customer."""
        if self.state.agent is None:
            self.state.agent = agent
        message = await self.send(
            Send("reply", agent, text=text, private=private, human=True, signature=agent)
        )
        if message is not None and pending:
            self._clock_events += timing.wait_on_customer(self.state, workflow.now())
        if message is not None:
            await self.run_event("agent.message", message_fields(message))
        return message

    def assign(self, assignee: str, by: str) -> None:
        """Give the inquiry to ``assignee``, whose name then signs the replies."""
        self.state.agent = assignee
        self.note("assigned", f"assigned to {assignee} by {by}")

    # ------------------------------------------------------------------ steps

    async def triage(self) -> None:
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
                attachments=list(inquiry.attachments),
            )
        )
        self.note(
            "received",
            f"{inquiry.kind} {inquiry.channel} post by @{inquiry.author.handle}",
            at=inquiry.created_at,
        )
        decision = await self._evaluate("received", {})
        if decision.dropped:
            state.step = "closed"
            state.closed_at = workflow.now()
            state.close_reason = f"dropped: {decision.drop_reason}"
            self.note("dropped", f"dropped as {decision.drop_reason} by {decision.fired[-1]}")
            metrics.inquiry_dropped(inquiry.channel, decision.drop_reason or "")
            return
        values = state.values
        self.note(
            "triaged",
            f"category {values.category}, priority {values.priority}, queue {values.queue}, "
            f"windows {values.windows}, privatize {values.privatize}",
        )
        metrics.inquiry_started(inquiry.channel, values.category, values.priority)
        for clock in ("acknowledge", "resolve"):
            await self._restart_clock(clock, inquiry.created_at)
        await self._act(decision)
        await self.catch_up()

    async def catch_up(self) -> None:
        """Handle everything due by now: deadlines, flow timers, then messages, in that order."""
        now = workflow.now()
        self._clock_events += timing.passed(self.state, now)
        await self.drain_clock_events()
        await self._flow_timers(now)
        # Since the bounded-state patch, a few at a time: the loop then checks the history's
        # length (to continue as new) even while messages keep coming.
        turn = bounded.MESSAGES_PER_TURN if self._keeps_latest else None
        while self._inbox and self.state.step != "closed" and turn != 0:
            await self._on_customer_message(self._inbox.pop(0))
            turn = None if turn is None else turn - 1
        while self._brand_inbox and self.state.step != "closed" and turn != 0:
            await self._on_brand_message(self._brand_inbox.pop(0))
            turn = None if turn is None else turn - 1
        self.apply_changes()
        await self.advance()
        await self.drain_clock_events()

    async def drain_clock_events(self) -> None:
        """Run the ``window.*`` rules for each deadline passed, in the order they passed."""
        while self._clock_events and self.state.step != "closed":
            event, clock = self._clock_events.pop(0)
            label = {
                "window.warning": "warning",
                "window.internal": "internal target passed",
                "window.published": "published window missed",
            }[event]
            self.note(event, f"{clock} clock: {label}")
            metrics.deadline_passed(clock, event)
            await self.run_event(event, {"clock": clock})
        self._clock_events.clear()

    async def _flow_timers(self, now: datetime) -> None:
        """The invitation's reminder and give-up, the follow-up and the silence after it."""
        state, ruleset, flow = self.state, self.ruleset, self.ruleset.rule_file.flow
        reminder = timing.reminder_due(state, ruleset)
        if reminder is not None and now >= reminder:
            state.reminded_at = now
            template = flow.privatize.reminder_template or flow.privatize.template
            await self.send(Send("reminder", "flow", template_name=template))
            await self.run_event("privatize.reminder", {})
        give_up = timing.give_up_due(state, ruleset)
        if give_up is not None and now >= give_up:
            self.note("privatize.given_up", "no private message came: staying public")
            state.step = "resolve"
            await self._stop_waiting(now)
            await self.run_event("privatize.given_up", {})
        follow_up = timing.follow_up_due(state, ruleset)
        silence = timing.silence_due(state, ruleset)
        if follow_up is not None and now >= follow_up:
            state.follow_up_sent_at = now
            template = flow.follow_up.template
            card = None
            if flow.follow_up.rating is not None and workflow.patched(rating.CSAT_PATCH):
                state.rating_asked_at = now  # asked for a rating: the next answer may be one
                template = flow.follow_up.rating.template or template
                card = rating.messenger_card(
                    flow.follow_up, state.inquiry.channel, outbound.customer_last_at(state), now
                )
                if card is not None and not workflow.patched(rating.FEEDBACK_PATCH):
                    card = None
            sent = await self.send(
                Send(
                    "follow_up",
                    "flow",
                    template_name=template,
                    private=state.private_channel,
                    feedback=card,
                )
            )
            if sent is not None and card is not None:
                self.note("rating.asked", "asked with Messenger's customer-feedback template")
        elif silence is not None and now >= silence:
            await self.run_event("follow_up.silent", self._resolution_fields())
            if state.step == "follow_up":
                await self._close("no answer to the follow-up", "flow")

    async def advance(self) -> None:
        """Leave the acknowledge step once its clock is met (or gone)."""
        state = self.state
        if state.step != "acknowledge":
            return
        clock = state.clocks.get("acknowledge")
        if clock is not None and not clock.finished:
            return
        if state.values.privatize == "required" and not state.private_channel:
            template = self.ruleset.rule_file.flow.privatize.template
            if await self.invite(template, "flow", human=False) is not None:
                return
        if state.step == "acknowledge":
            state.step = "resolve"
            self.note("step", "now in resolve")

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
        learned = now if workflow.patched(NATIVE_REPLY_PATCH) else None
        self._record_sent(message, "native_reply", human=True, at=learned)
        await self.run_event("agent.message", message_fields(message))

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
                attachments=list(message.attachments),
            )
        )
        where = "privately" if message.private else "publicly"
        self.note("customer.message", f"@{state.inquiry.author.handle} wrote {where}")
        fields = {"message.text": message.text, "message.private": message.private}
        if state.step == "follow_up":
            rated = await self._rating(message, fields)
            if state.step == "follow_up":
                await self.run_event("follow_up.reply", {**fields, **self._resolution_fields()})
            if state.step == "follow_up" and rated is not None:
                await self._close(f"the customer rated {rated.score}/{rated.scale}", "flow")
            elif state.step == "follow_up":
                await self.reopen("the customer wrote after the resolution", "flow")
            return
        if message.private and state.private_at is None:
            state.private_at = now
            self.note("privatized", "the conversation continues privately")
            if state.step == "privatize":
                state.step = "resolve"
        await self._stop_waiting(now)
        acknowledge = state.clocks.get("acknowledge")
        next_reply = state.clocks.get("next_reply")
        if (acknowledge is None or acknowledge.finished) and (
            next_reply is None or next_reply.finished
        ):
            await self._restart_clock("next_reply", at)
        await self.run_event("customer.message", fields)

    async def _rating(
        self, message: CustomerMessage, fields: dict[str, Any]
    ) -> rating.Rating | None:
        """When the follow-up asked for a rating and the answer gives one (its text, or the
        platform's own rating form): recorded, and the ``follow_up.rating`` rules run (a low
        score may reopen, a high one thank). A rated answer that no rule closes or reopens
        closes the inquiry: the customer answered."""
        state = self.state
        spec = self.ruleset.rule_file.flow.follow_up.rating
        if spec is None or not rating.awaited(spec, state.rating_asked_at, state.rating):
            return None
        if message.rating is not None and workflow.patched(rating.FEEDBACK_PATCH):
            read: ReadRating | None = rating.given(spec, message.rating)
        else:
            read = await self._safely(
                "reading the rating",
                lambda: rating.read(spec, message.text),
                lambda: None,
                "the answer was not read as a rating",
            )
        if read is None:
            return None
        state.rating = rating.Rating(
            score=read.score,
            scale=spec.scale,
            comment=read.comment,
            at=workflow.now(),
            form=read.form,
        )
        said = " with a comment" if read.comment else ""
        self.note("rated", f"the customer rated {read.score}/{spec.scale} ({read.form}){said}")
        comment = {"rating.comment": read.comment} if read.comment else {}
        await self.run_event(
            "follow_up.rating",
            {**fields, "rating.score": read.score, **comment, **self._resolution_fields()},
        )
        return state.rating

    async def invite(self, template: str, by: str, *, human: bool) -> Message | None:
        """Invite the customer to a private channel and wait on them (resolve clock paused)."""
        state = self.state
        message = await self.send(
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
        self.note("privatize", "invited the customer to a private channel")
        self._clock_events += timing.wait_on_customer(self.state, workflow.now())
        return message

    async def resolve(self, code: str, note: str | None, agent: str) -> None:
        state, now = self.state, workflow.now()
        if state.agent is None and workflow.patched(RESOLVER_ASSIGNED_PATCH):
            state.agent = agent
        self._clock_events += timing.resolved(state, now)
        await self.drain_clock_events()
        state.waiting_on_customer = False
        state.resolved_at = now
        state.resolution_code = code
        state.resolution_note = note
        state.follow_up_sent_at = None
        state.step = "follow_up"
        self.note(
            "resolved", f"resolved by {agent} with code {code}" + (f": {note}" if note else "")
        )
        await self.run_event("resolved", self._resolution_fields())

    async def reopen(self, reason: str, by: str) -> None:
        state = self.state
        state.reopens += 1
        state.step = "resolve"
        state.follow_up_sent_at = None
        self.note("reopened", f"reopened by {by}: {reason}")
        await self._restart_clock("resolve", workflow.now())
        await self.run_event("reopened", {})

    async def _close(self, reason: str, by: str) -> None:
        state, now = self.state, workflow.now()
        self._clock_events += timing.passed(state, now)
        await self.drain_clock_events()
        timing.stop_all(state, now)
        for clock in [*state.earlier_clocks, *state.clocks.values()]:
            metrics.clock_closed(clock.name, clock.internal, clock.published)
        state.step = "closed"
        state.closed_at = now
        state.close_reason = reason
        state.waiting_on_customer = False
        self.note("closed", f"closed by {by}: {reason}")
        closing = self._resolution_fields()
        if state.rating is not None:  # only inquiries that asked (csat-rating patch) have one
            closing["rating.score"] = state.rating.score
        await self.run_event("closed", closing)
        if self.ruleset.rule_file.qa is not None:
            sampled = await qa_start.start_review(
                state, self.ruleset, closing, now, search_attributes=self._memo
            )
            if sampled is not None:
                self.note("qa.sampled", sampled)

    async def escalate(self, to: str, reason: str, by: str) -> None:
        state = self.state
        state.escalations.append(Escalation(at=workflow.now(), to=to, reason=reason, by=by))
        metrics.escalated(to)
        self.note("escalated", f"escalated to {to} by {by}: {reason}")
        handoff = await self.send(outbound.escalation(state, to, reason, by))
        if handoff is not None and handoff.link and workflow.patched(CHAT_LINK_PATCH):
            # The same agent carries on in the chat; the customer gets the way there privately.
            self.note("chat", f"chat session {handoff.id} opened for {state.agent or 'the team'}")
            await self.send(outbound.chat_link(state, handoff.link, by))

    def _bounded(self, extra: dict[str, Any] | None) -> bool:
        """Whether the rules read the texts only up to their channel's limit: when one is
        longer, and once the inquiry runs code that does (the patch)."""
        inquiry = self.state.inquiry
        longer = len(inquiry.text) > evaluated_limit(inquiry.channel, inquiry.kind)
        message = (extra or {}).get("message.text")
        if isinstance(message, str):
            kind = "private" if (extra or {}).get("message.private") else "public"
            longer = longer or len(message) > evaluated_limit(inquiry.channel, kind)
        return longer and workflow.patched(BOUNDED_TEXT_PATCH)

    async def _evaluate(self, event: str, fields: dict[str, Any]) -> Decision:
        """Run the rules for ``event``; record what fired and the values they set. Rules that
        fail (they never should) decide nothing, and a supervisor is told."""
        state = self.state
        extra: dict[str, Any] | None = None
        if event != "received":
            extra = {
                "step": state.step,
                "agent.name": state.agent,
                "reopens": state.reopens,
                **fields,
            }
        values = state.values.values()
        decision = await self._safely(
            f"the {event} rules",
            lambda: self.ruleset.evaluate(
                event, state.inquiry, values, extra, bounded=self._bounded(extra)
            ),
            lambda: faults.no_decision(event, values),
            "no rule ran",
        )
        now = workflow.now()
        for rule in decision.fired:
            state.fired.append(
                FiredRule(at=now, event=event, rule=rule, why=decision.why.get(rule, []))
            )
        if decision.fired:
            self.note("rules", f"{event}: {', '.join(decision.fired)}")
        state.values = ValuesState.of(decision.values)
        return decision

    async def run_event(self, event: str, fields: dict[str, Any]) -> None:
        await self._act(await self._evaluate(event, fields))

    async def _act(self, decision: Decision) -> None:
        """Carry out a decision's effects in order, each if it still applies when its turn comes."""
        for effect in interpreter.effects(decision):
            if interpreter.applies(effect, self.state):
                await self._apply(effect)

    async def _apply(self, effect: interpreter.Effect) -> None:
        match effect:
            case Send():
                await self.send(effect)
            case interpreter.Invite(template, by):
                await self.invite(template, by, human=False)
            case interpreter.Notify(target, template, by):
                await self._notify(target, template, by)
            case interpreter.Escalate(to, reason, by):
                await self.escalate(to, reason, by)
            case interpreter.Reopen(reason, by):
                await self.reopen(reason, by)
            case interpreter.Close(reason, by):
                await self._close(reason, by)
            case _:
                assert_never(effect)

    async def _notify(self, target: str, template: str | None, by: str) -> None:
        message = await self.send(
            outbound.notification(self.state, self.ruleset, target, template, by)
        )
        if message is not None:
            self.note("notified", f"notified {target}: {message.text}")

    async def send(self, send: Send) -> Message | None:
        """Deliver one message through the ``deliver`` activity.

        The key (workflow id / step / sequence) makes retries safe. A message that cannot be
        delivered becomes an escalation to a supervisor; a failed escalation is recorded.
        """
        state = self.state
        state.sequence += 1
        key = outbound.key(workflow.info().workflow_id, state)
        lean = send.template_name is not None and workflow.patched(LEAN_VARIABLES_PATCH)
        built: Outbound | None = await self._safely(
            f"preparing the {send.kind}",
            lambda: outbound.build(send, key, state, self.ruleset, lean=lean),
            lambda: None,
            f"{send.kind} {key} was not sent",
        )
        if built is None:
            return None
        try:
            delivery = await workflow.execute_activity(
                DELIVER,
                built,
                result_type=Delivery,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            cause = error.cause.message if isinstance(error.cause, ApplicationError) else error
            self.note("delivery_failed", f"could not deliver {send.kind} {key}: {cause}")
            if send.kind not in ("escalation", "chat_handoff"):
                await self.escalate(
                    "supervisor", f"could not deliver a {send.kind}: {cause}", "careflow"
                )
            return None
        message, moved = outbound.delivered(send, key, delivery, state, workflow.now())
        if moved is not None:
            self.note("moved", f"{send.kind} {key} was sent privately: {moved}")
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
        self.note("message.out", f"{kind} by {message.by}{where}")
        self._clock_events += timing.replied(state, now, human=human)

    async def _restart_clock(self, name: str, at: datetime) -> None:
        """Start clock ``name`` at ``at``; if its calendar fails, around the clock from ``at``
        or now, whichever is earlier (a post dated in the future counts from its arrival)."""
        state, ruleset, start = self.state, self.ruleset, min(at, workflow.now())
        await self._safely(
            "the clocks",
            lambda: timing.restart_clock(state, ruleset, name, at),
            lambda: timing.restart_clock(state, ruleset, name, start, calendar=ALWAYS.name),
            f"the {name} clock counts around the clock from {start.isoformat()}",
        )

    async def _stop_waiting(self, at: datetime) -> None:
        """The resolve clock counts again; if its calendar fails, around the clock."""
        state, ruleset = self.state, self.ruleset
        await self._safely(
            "the clocks",
            lambda: timing.stop_waiting(state, ruleset, at),
            lambda: timing.stop_waiting(state, ruleset, at, calendar=ALWAYS.name),
            "the resolve clock counts around the clock from now",
        )

    async def _safely(
        self, where: str, call: Callable[[], T], fallback: Callable[[], T], instead: str
    ) -> T:
        """The last line of defence around code that should never raise (rules, calendars).

        An unexpected error would fail the workflow task, which Temporal retries forever: the
        inquiry would be stuck, neither answered nor escalated. Instead the error is noted with
        what was done ``instead``, a supervisor is told (once per distinct error), and the
        inquiry carries on with ``fallback()``. Before the last-line-of-defence patch it raises.
        """
        try:
            return call()
        except Exception as error:
            if not faults.recoverable(error) or not workflow.patched(faults.LAST_LINE_PATCH):
                raise
            result = fallback()
            reason = faults.reason(where, error)
            self.note(faults.EVENT, f"{reason}; {instead}")
            told = [e.reason for e in self.state.escalations if e.by == "careflow"]
            if not faults.already_escalated(error, told):
                await self.escalate("supervisor", reason, "careflow")
            return result

    def trim(self) -> None:
        """Since the bounded-state patch: keep the latest of each list (``workflows.bounded``);
        a finished clock let go reports its verdicts now, as the others do at close."""
        if not self._keeps_latest:
            return
        for clock in bounded.trim(self.state):
            metrics.clock_closed(clock.name, clock.internal, clock.published)

    def note(self, event: str, detail: str, at: datetime | None = None) -> None:
        """One line of the timeline, at ``at`` (by default, now)."""
        self.state.timeline.append(
            TimelineEntry(at=at or workflow.now(), event=event, detail=detail)
        )

    def _resolution_fields(self) -> dict[str, Any]:
        return {"resolution.code": self.state.resolution_code}

    def record_late_messages(self) -> None:
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
                    attachments=list(message.attachments),
                )
            )
            self.note("customer.message", "the customer wrote as the inquiry closed")
        self._inbox.clear()
        self.apply_changes()

    # ------------------------------------------------------------------ edits and unsent

    def apply_changes(self) -> None:
        """Customers' edits and unsent messages, applied to the messages they name.

        Only the view changes: no rules run and no clock moves. An edit is the same message
        said better, not a new one to triage or answer (a typo fixed must not move an inquiry
        between queues, restart its next-reply clock or fire a second acknowledgement); agents
        see it in the messages and the timeline, and a new message is how a customer says
        something new."""
        while self._changes:
            self._apply_change(self._changes.pop(0))

    def _set_memo_text(self, text: str) -> None:
        """The queue's view of the first post (the intake's memo), kept as the customer left it."""
        if self._memo:
            workflow.upsert_memo({"text": text})

    def _apply_change(self, change: MessageChange) -> None:
        state = self.state
        handle = state.inquiry.author.handle
        message = next(
            (m for m in reversed(state.messages) if m.direction == "in" and m.id == change.id),
            None,
        )
        if message is None:
            have = (
                "which is not among the latest messages kept (the workflow history has it)"
                if state.earlier.messages
                else "which this inquiry does not have"
            )
            self.note(
                f"customer.{'edited' if change.kind == 'edit' else 'withdrew'}",
                f"@{handle} changed message {change.id}, {have}: nothing to change",
            )
            return
        is_post = change.id == state.inquiry.id
        at = min(change.at, workflow.now())
        if message.withdrawn_at is not None:
            return  # withdrawn stays withdrawn; a redelivery or a late edit changes nothing
        if change.kind == "edit":
            text = change.text or ""
            if text == message.text:
                return  # a redelivered edit
            before = EarlierText(at=message.edited_at or message.at, text=message.text)
            earlier = [*message.edited_from, before]
            if len(earlier) > EARLIER_TEXTS + 1:
                earlier = [earlier[0], *earlier[-EARLIER_TEXTS:]]
            message.edited_from = earlier
            message.edited_at = at
            message.text = text
            if is_post:
                state.inquiry = state.inquiry.model_copy(update={"text": text})
                self._set_memo_text(text[:MEMO_TEXT])
            self.note("customer.edited", f"@{handle} edited message {change.id}", at=at)
            return
        message.withdrawn_at = at
        message.text = ""
        message.attachments = []
        message.edited_from = []
        if is_post:
            state.inquiry = state.inquiry.model_copy(update={"text": "", "attachments": ()})
            self._set_memo_text(WITHDRAWN_MEMO)
        self.note(
            "customer.withdrew",
            f"@{handle} unsent message {change.id}: its text is hidden (the workflow history "
            "keeps it for audit)",
            at=at,
        )
