"""The inquiry workflow: one post, five steps, its clocks, and the rules that drive it.

acknowledge → privatize → resolve → follow_up → closed. The rule file is loaded once, by an
activity, so the exact rules (and their hash) are in the history and stay with the inquiry for
its whole life. Rules run on every event (``received``, ``customer.message``, ``window.*``, …);
their actions become activity calls (``deliver``) or state changes. Clocks are pure state
(``workflows.clocks``); the main loop sleeps until the next deadline or message.

Customer messages arrive by signal (deduplicated by platform message id). Agent actions are
Updates with validators, so an action that makes no sense is rejected before it reaches the
history. Every handler and the main loop take one lock: state changes never interleave.

This module is the Temporal surface: handlers, the main loop, search attributes, continue-as-new.
What each step does is in ``workflows.machine``; the pure parts beside it: ``validators`` (may an
agent do this now?), ``interpreter`` (a rule decision as effects), ``outbound`` (what
``deliver`` gets), ``timing`` (the inquiry's clocks and flow timers), ``search`` (attributes),
``faults`` (what an unexpected error in the rules or the clocks becomes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.types import LOAD_RULES, RulesSource
    from careflow.engine.ruleset import Ruleset, compiled_ruleset
    from workflows import bounded, engine_version, rules_digest, search, timing, validators
    from workflows.actors import ACTORS_PATCH, REASONED_EVENTS, REASONS_PATCH, Actor
    from workflows.machine import StepMachine
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
    from workflows.state import (
        BrandMessage,
        CustomerMessage,
        InquiryState,
        InquiryStatus,
        Message,
        MessageChange,
        ValuesState,
        status_of,
    )
    from workflows.topics import TopicTracker

RULES_TIMEOUT = timedelta(seconds=30)
# A broken or missing rule file is retried until someone fixes it: the inquiry waits, it is not lost.
RULES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
# Search attributes for the SLA report, added after inquiries were already running.
SLA_ATTRIBUTES_PATCH = "sla-search-attributes"
# Idempotency keys name the inquiry's first run: a conversation's next inquiry posts its own.
INQUIRY_KEYS_PATCH = "inquiry-keys"
# An X inquiry lists its tweets' ids in CareThread, so a customer's reply to any of them (careflow's
# own replies among them) reaches it. Only inquiries the intake started with the attribute do:
# older ones are found by their old-style id.
THREAD_PATCH = "x-thread"
# Inquiries the intake started with CareSegment keep their segment and topics (CareTopics) current.
INSIGHTS_PATCH = "insights-topics"
# Inquiries the intake started with CareHighReach keep CareAtRisk for the supervisor view.
AT_RISK_PATCH = "loose-supervisor-at-risk"
MAX_PENDING_CHANGES = 100  # edits and unsent messages waiting for the loop
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
        self._machine: StepMachine | None = None  # once the rules are loaded
        carried = input.state
        self._inbox: list[CustomerMessage] = list(carried.inbox) if carried else []
        self._brand_inbox: list[BrandMessage] = list(carried.brand_inbox) if carried else []
        self._changes: list[MessageChange] = list(carried.changes) if carried else []
        # Insertion-ordered, so the carried list is identical on every replay.
        self._seen: dict[str, None] = dict.fromkeys(carried.seen_message_ids if carried else [])
        self._duplicates = carried.duplicate_deliveries if carried else 0
        self._lock = asyncio.Lock()
        self._changed = False
        self._indexed: dict[str, Any] = {}
        self._bounded = False  # decided at the start of each run (the bounded-state patch)
        self._topics = TopicTracker()

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: InquiryInput) -> InquiryResult:
        # Asked first in every run: a run carried from before the patch is trimmed at once.
        self._bounded = workflow.patched(bounded.PATCH)
        if input.state is None:
            # Decided once per inquiry and carried across continue-as-new, so its keys never change.
            first_run_id = (
                workflow.info().first_execution_run_id
                if workflow.patched(INQUIRY_KEYS_PATCH)
                else None
            )
            source = await workflow.execute_activity(
                LOAD_RULES,
                input.rules_path,
                result_type=RulesSource,
                start_to_close_timeout=RULES_TIMEOUT,
                retry_policy=RULES_RETRY,
            )
            if workflow.patched(rules_digest.RULES_DIGEST_PATCH):
                rules_digest.check(source.text, source.digest)
            engine = engine_version.chosen_version()
            ruleset = compiled_ruleset(source.text, source.digest, source.file, engine=engine)
            state = InquiryState(
                inquiry=input.inquiry,
                rules=source,
                values=ValuesState.of(ruleset.defaults),
                first_run_id=first_run_id,
                engine_version=engine,
            )
            self._machine = self._step_machine(state, ruleset)
            async with self._lock:
                await self.machine.triage()
                self._settle()
            if self.state.step == "closed":
                # An action that arrived meanwhile is answered (rejected: closed), not cut off.
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self._result("dropped")
        else:
            carried = input.state
            if workflow.patched(rules_digest.RULES_DIGEST_PATCH):
                rules_digest.check(carried.rules.text, carried.rules.digest)
            ruleset = compiled_ruleset(
                carried.rules.text,
                carried.rules.digest,
                carried.rules.file,
                engine=carried.engine_version,
            )
            state = carried.model_copy(
                update={"inbox": [], "brand_inbox": [], "changes": [], "runs": carried.runs + 1}
            )
            self._machine = self._step_machine(state, ruleset)
            self._settle()

        while self.state.step != "closed":
            if self._should_continue_as_new():
                await self._continue_as_new()
            await self._wait()
            async with self._lock:
                await self.machine.catch_up()
                self._settle()

        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self._lock:
            self.machine.record_late_messages()
            self._settle()
        return self._result("closed")

    @property
    def machine(self) -> StepMachine:
        assert self._machine is not None, "the machine starts once the rules are loaded"
        return self._machine

    @property
    def state(self) -> InquiryState:
        return self.machine.state

    @property
    def ruleset(self) -> Ruleset:
        return self.machine.ruleset

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

    @workflow.signal(name="message_change")
    def message_change(self, change: MessageChange) -> None:
        """The customer edited or unsent one of their messages: applied to the view of that
        message at the next turn of the loop (rules and clocks are left alone). The signal
        itself keeps the new text in the history. Bounded: a platform redelivering edits
        endlessly is not a reason to grow the state carried across continue-as-new."""
        if len(self._changes) < MAX_PENDING_CHANGES:
            self._changes.append(change)

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
        if self._machine is None:
            raise ApplicationError("the inquiry is still starting: its rules are loading")
        # Read only: a query runs on the live worker, never on replay, so a change made here
        # would exist in one and not the other.
        return status_of(
            self.state, workflow.info().workflow_id, duplicate_deliveries=self._duplicates
        )

    # ------------------------------------------------------------------ agent actions

    @workflow.update
    async def acknowledge(self, request: AcknowledgeRequest) -> ActionResult:
        async def act() -> ActionResult:
            text = (request.text or "").strip() or None
            message = await self.machine.acknowledge(request.agent.strip(), text)
            return self._action_result("acknowledged", message)

        return await self._agent_action(validators.acknowledge, request, act)

    @acknowledge.validator
    def _validate_acknowledge(self, request: AcknowledgeRequest) -> None:
        self._refuse(validators.acknowledge, request)

    @workflow.update
    async def reply(self, request: ReplyRequest) -> ActionResult:
        async def act() -> ActionResult:
            message = await self.machine.reply(
                request.agent.strip(),
                request.text,
                private=request.private,
                pending=request.pending,
            )
            return self._action_result("replied", message)

        return await self._agent_action(validators.reply, request, act)

    @reply.validator
    def _validate_reply(self, request: ReplyRequest) -> None:
        self._refuse(validators.reply, request)

    @workflow.update
    async def invite_private(self, request: InvitePrivateRequest) -> ActionResult:
        async def act() -> ActionResult:
            template = request.template or self.ruleset.rule_file.flow.privatize.template
            message = await self.machine.invite(template, request.agent.strip(), human=True)
            return self._action_result("invited to a private channel", message)

        return await self._agent_action(validators.invite_private, request, act)

    @invite_private.validator
    def _validate_invite_private(self, request: InvitePrivateRequest) -> None:
        self._refuse(validators.invite_private, request)

    @workflow.update
    async def resolve(self, request: ResolveRequest) -> ActionResult:
        async def act() -> ActionResult:
            code = request.code.strip()
            await self.machine.resolve(code, request.note, request.agent.strip())
            return self._action_result(f"resolved with code {code}", None)

        return await self._agent_action(validators.resolve, request, act)

    @resolve.validator
    def _validate_resolve(self, request: ResolveRequest) -> None:
        self._refuse(validators.resolve, request)

    @workflow.update
    async def reopen(self, request: ReopenRequest) -> ActionResult:
        async def act() -> ActionResult:
            reason = request.reason.strip() or "reopened by an agent"
            await self.machine.reopen(reason, request.agent.strip())
            return self._action_result("reopened", None)

        return await self._agent_action(validators.reopen, request, act)

    @reopen.validator
    def _validate_reopen(self, request: ReopenRequest) -> None:
        self._refuse(validators.reopen, request)

    @workflow.update
    async def assign(self, request: AssignRequest) -> ActionResult:
        async def act() -> ActionResult:
            assignee = request.assignee.strip()
            self.machine.assign(assignee, request.agent.strip())
            return self._action_result(f"assigned to {assignee}", None)

        return await self._agent_action(validators.assign, request, act)

    @assign.validator
    def _validate_assign(self, request: AssignRequest) -> None:
        self._refuse(validators.assign, request)

    @workflow.update
    async def escalate(self, request: EscalateRequest) -> ActionResult:
        async def act() -> ActionResult:
            reason = (request.reason or "").strip() or f"escalated by {request.agent.strip()}"
            await self.machine.escalate(request.to, reason, request.agent.strip())
            return self._action_result(f"escalated to {request.to}", None)

        return await self._agent_action(validators.escalate, request, act)

    @escalate.validator
    def _validate_escalate(self, request: EscalateRequest) -> None:
        self._refuse(validators.escalate, request)

    def _refuse(self, check: Check[R], request: R) -> None:
        """Fail the update with the check's sentence, if it has one. While the rules are still
        loading only the request itself is checked; the handler checks again once they are."""
        machine = self._machine
        refusal = check(
            machine.state if machine else None, machine.ruleset if machine else None, request
        )
        if refusal is not None:
            raise _rejected(refusal)

    def _sign(self, request: object, made_from: int) -> None:
        """The timeline entries an action made carry who acted (when the caller said), and its
        own entry the reason code it gave."""
        made = self.state.timeline[made_from:]
        actor = getattr(request, "actor", None)
        if isinstance(actor, Actor) and workflow.patched(ACTORS_PATCH):
            for entry in made:
                if entry.actor is None:
                    entry.actor = actor
        code = getattr(request, "code", None)
        if isinstance(code, str) and code.strip() and workflow.patched(REASONS_PATCH):
            for entry in made:
                if entry.event in REASONED_EVENTS and entry.reason is None:
                    entry.reason = code.strip()

    async def _agent_action(
        self, check: Check[R], request: R, act: Callable[[], Awaitable[ActionResult]]
    ) -> ActionResult:
        """Run an agent action under the lock, re-checked: the inquiry may have moved on while
        the update waited for the lock (the validator only saw the state at delivery)."""
        await workflow.wait_condition(lambda: self._machine is not None)
        async with self._lock:
            await self.machine.catch_up()
            self._refuse(check, request)
            made_from = len(self.state.timeline)
            result = await act()
            self._sign(request, made_from)
            await self.machine.advance()
            await self.machine.drain_clock_events()
            self._changed = True
            self._settle()
            return result.model_copy(update={"step": self.state.step})

    def _step_machine(self, state: InquiryState, ruleset: Ruleset) -> StepMachine:
        """The step machine over this run's inboxes; on a real server (search attributes on)
        it keeps the queue's memo in step with the customer's edits."""
        return StepMachine(
            state,
            ruleset,
            self._inbox,
            self._brand_inbox,
            self._changes,
            memo=self._input.search_attributes,
            bounded=self._bounded,
        )

    def _keeps_thread(self) -> bool:
        """Whether this inquiry lists its tweets in CareThread: an X inquiry the intake started
        with the attribute set, so the server is known to have it registered (upserting an
        unknown attribute would fail every workflow task); others are found by their id."""
        return (
            self.state.inquiry.channel == "x"
            and workflow.info().typed_search_attributes.get(search.THREAD) is not None
            and workflow.patched(THREAD_PATCH)
        )

    def _keeps_at_risk(self) -> bool:
        """Whether this inquiry keeps CareAtRisk: the intake set CareHighReach at start, so the
        server has both registered (as with CareSegment)."""
        return workflow.info().typed_search_attributes.get(
            search.HIGH_REACH
        ) is not None and workflow.patched(AT_RISK_PATCH)

    def _keeps_topics(self) -> bool:
        """Whether this inquiry keeps CareSegment and CareTopics: the intake set CareSegment at
        start, so the server has them registered (as with CareThread)."""
        return workflow.info().typed_search_attributes.get(
            search.SEGMENT
        ) is not None and workflow.patched(INSIGHTS_PATCH)

    def _action_result(self, detail: str, message: Message | None) -> ActionResult:
        return ActionResult(
            step=self.state.step, detail=detail, text=message.text if message else None
        )

    # ------------------------------------------------------------------ the loop

    async def _wait(self) -> None:
        """Sleep until the next deadline, a customer message, or an agent action."""
        wake = timing.next_wake(self.state, self.ruleset)
        now = workflow.now()
        if (wake is not None and wake <= now) or self._pending() or self._changed:
            self._changed = False
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._pending() or self._changed,
                timeout=(wake - now) if wake is not None else None,
            )
        self._changed = False

    # ------------------------------------------------------------------ helpers

    def _pending(self) -> bool:
        """Whether a signal left something for the loop to handle."""
        return bool(self._inbox) or bool(self._brand_inbox) or bool(self._changes)

    def _synced(self) -> InquiryState:
        """The state with the signal-side bookkeeping folded in."""
        state = self.state
        state.seen_message_ids = list(self._seen)
        state.duplicate_deliveries = self._duplicates
        state.inbox = list(self._inbox)
        state.brand_inbox = list(self._brand_inbox)
        state.changes = list(self._changes)
        return state

    def _settle(self) -> None:
        """After each event: keep the state bounded (since the patch), then the attributes."""
        self._trim()
        self._index()

    def _trim(self) -> None:
        if self._bounded and self._machine is not None:
            self.machine.trim()
            bounded.trim_seen(self._seen)

    def _index(self) -> None:
        """Keep the search attributes current (only the ones that changed are written)."""
        if not self._input.search_attributes or self._machine is None:
            return
        wanted = search.wanted(self.state, sla=workflow.patched(SLA_ATTRIBUTES_PATCH))
        if self._keeps_thread():
            wanted.append((search.THREAD, search.thread(self.state)))
        if self._keeps_topics():
            wanted += search.insights(self.state, self._topics.update(self.state, self.ruleset))
        if self._keeps_at_risk():
            wanted.append((search.AT_RISK, search.at_risk_from(self.state)))
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
        """Start a fresh run once every handler has finished, carrying the state: whole before
        the bounded-state patch; since, the latest of each list and ``earlier``, which names
        this run (its history holds what it let go)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.machine.note(
            "continued_as_new",
            f"history reached {workflow.info().get_current_history_length()} events: run "
            f"{self.state.runs + 1} carries on",
        )
        if self._bounded:
            self._trim()
            bounded.ended_run(self.state.earlier, workflow.info().run_id)
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
