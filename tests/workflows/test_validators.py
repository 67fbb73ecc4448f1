"""Every refusal an agent can meet, without a Temporal server: the validators are pure functions
of the state, the rules and the request. The sentences are compared whole, because they reach
agents as HTTP 409 bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careflow.engine.ruleset import Ruleset, ruleset_from_text
from tests.conftest import MINIMAL
from tests.workflows.states import RULES, inquiry_state
from workflows import validators
from workflows.clocks import ClockState
from workflows.messages import (
    AcknowledgeRequest,
    AssignRequest,
    EscalateRequest,
    InvitePrivateRequest,
    ReopenRequest,
    ReplyRequest,
    ResolveRequest,
)

AT = datetime(2026, 11, 17, 15, 5, tzinfo=UTC)  # when the example question was posted


def met_ack_clock(at: datetime) -> ClockState:
    return ClockState(
        name="acknowledge",
        calendar="always",
        started_at=AT,
        internal_due=AT + timedelta(minutes=30),
        published_due=AT + timedelta(hours=1),
        internal="met",
        published="met",
        met_at=at,
    )


# ---------------------------------------------------------------- shared checks


def test_every_action_needs_an_agent() -> None:
    refusal = "say which agent is acting (agent is empty)"
    state = inquiry_state()
    assert validators.acknowledge(state, RULES, AcknowledgeRequest(agent=" ")) == refusal
    assert validators.reply(state, RULES, ReplyRequest(agent="", text="hi")) == refusal
    assert validators.invite_private(state, RULES, InvitePrivateRequest(agent="")) == refusal
    assert validators.resolve(state, RULES, ResolveRequest(agent="", code="done")) == refusal
    assert validators.reopen(state, RULES, ReopenRequest(agent="", reason="x")) == refusal
    assert validators.assign(state, RULES, AssignRequest(agent="", assignee="Sam")) == refusal
    assert validators.escalate(state, RULES, EscalateRequest(agent="", to="chat")) == refusal


def test_nothing_changes_a_closed_inquiry() -> None:
    state = inquiry_state(step="closed", close_reason="customer confirmed the fix")
    refusal = "the inquiry is closed (customer confirmed the fix): nothing can change it"
    assert validators.reply(state, RULES, ReplyRequest(agent="Ana", text="hi")) == refusal
    assert validators.reopen(state, RULES, ReopenRequest(agent="Ana", reason="x")) == refusal
    assert validators.escalate(state, RULES, EscalateRequest(agent="Ana", to="chat")) == refusal


def test_while_starting_only_the_request_itself_is_refused() -> None:
    """The rules are still loading: the handler checks the rest once they are loaded."""
    assert validators.acknowledge(None, None, AcknowledgeRequest(agent="Ana")) is None
    assert validators.invite_private(None, None, InvitePrivateRequest(agent="Ana")) is None
    assert validators.resolve(None, None, ResolveRequest(agent="Ana", code="done")) is None
    assert validators.reopen(None, None, ReopenRequest(agent="Ana", reason="x")) is None
    assert validators.assign(None, None, AssignRequest(agent="Ana", assignee="Sam")) is None
    assert (
        validators.reply(None, None, ReplyRequest(agent="Ana", text=" "))
        == "the reply is empty: write the text to send"
    )
    assert (
        validators.acknowledge(None, None, AcknowledgeRequest(agent=""))
        == "say which agent is acting (agent is empty)"
    )


# ---------------------------------------------------------------- acknowledge


def test_acknowledge_only_once() -> None:
    state = inquiry_state(clocks={"acknowledge": met_ack_clock(AT + timedelta(minutes=3))})
    assert (
        validators.acknowledge(state, RULES, AcknowledgeRequest(agent="Ana"))
        == "the inquiry was already acknowledged at 2026-11-17T15:08:00+00:00"
    )


def test_acknowledge_without_text_needs_the_ack_template() -> None:
    minimal: Ruleset = ruleset_from_text(MINIMAL, "minimal.yaml")
    state = inquiry_state()
    assert (
        validators.acknowledge(state, minimal, AcknowledgeRequest(agent="Ana"))
        == "no text given and the rule file has no 'ack' template to send"
    )
    with_text = AcknowledgeRequest(agent="Ana", text="On it")
    assert validators.acknowledge(state, minimal, with_text) is None
    assert validators.acknowledge(state, RULES, AcknowledgeRequest(agent="Ana")) is None


# ---------------------------------------------------------------- reply


def test_a_reply_needs_text() -> None:
    assert (
        validators.reply(inquiry_state(), RULES, ReplyRequest(agent="Ana", text=" \n"))
        == "the reply is empty: write the text to send"
    )
    assert validators.reply(inquiry_state(), RULES, ReplyRequest(agent="Ana", text="hi")) is None


# ---------------------------------------------------------------- invite_private


def test_a_dm_is_not_invited_private() -> None:
    assert (
        validators.invite_private(
            inquiry_state("private-dm"), RULES, InvitePrivateRequest(agent="Ana")
        )
        == "this conversation is already private (it started as a direct message)"
    )


def test_a_customer_who_wrote_privately_is_not_invited_again() -> None:
    state = inquiry_state(step="resolve", private_at=AT + timedelta(hours=1))
    assert (
        validators.invite_private(state, RULES, InvitePrivateRequest(agent="Ana"))
        == "the customer already wrote privately at 2026-11-17T16:05:00+00:00"
    )


def test_one_invitation_at_a_time() -> None:
    state = inquiry_state(step="privatize", invited_at=AT + timedelta(minutes=10))
    assert (
        validators.invite_private(state, RULES, InvitePrivateRequest(agent="Ana"))
        == "an invitation sent at 2026-11-17T15:15:00+00:00 is still waiting for an answer"
    )


def test_a_resolved_inquiry_is_not_invited() -> None:
    state = inquiry_state(step="follow_up", resolution_code="answered")
    assert (
        validators.invite_private(state, RULES, InvitePrivateRequest(agent="Ana"))
        == "the inquiry is resolved: reopen it first"
    )


def test_an_invitation_needs_a_known_template() -> None:
    refusal = validators.invite_private(
        inquiry_state(), RULES, InvitePrivateRequest(agent="Ana", template="nope")
    )
    templates = ", ".join(RULES.rule_file.templates)
    assert refusal == f"no template named 'nope'; the rule file has: {templates}"
    assert (
        validators.invite_private(inquiry_state(), RULES, InvitePrivateRequest(agent="Ana")) is None
    )


# ---------------------------------------------------------------- resolve and reopen


def test_resolve_needs_a_code() -> None:
    assert (
        validators.resolve(inquiry_state(), RULES, ResolveRequest(agent="Ana", code=" "))
        == "a resolution code is required, e.g. refunded or replaced"
    )


def test_resolve_only_once() -> None:
    state = inquiry_state(step="follow_up", resolution_code="answered")
    assert (
        validators.resolve(state, RULES, ResolveRequest(agent="Ana", code="again"))
        == "the inquiry is already resolved (code answered): reopen it first"
    )


def test_only_a_resolved_inquiry_is_reopened() -> None:
    assert (
        validators.reopen(
            inquiry_state(step="resolve"), RULES, ReopenRequest(agent="Ana", reason="x")
        )
        == "the inquiry is not resolved (it is in resolve): only a resolved inquiry can be reopened"
    )
    resolved = inquiry_state(step="follow_up", resolution_code="answered")
    assert validators.reopen(resolved, RULES, ReopenRequest(agent="Ana", reason="x")) is None


# ---------------------------------------------------------------- assign and escalate


def test_assign_needs_an_assignee() -> None:
    assert (
        validators.assign(inquiry_state(), RULES, AssignRequest(agent="Sam", assignee=" "))
        == "say who to assign the inquiry to"
    )


def test_assign_to_someone_new() -> None:
    state = inquiry_state(agent="Ana")
    assert (
        validators.assign(state, RULES, AssignRequest(agent="Sam", assignee=" Ana "))
        == "the inquiry is already assigned to Ana"
    )
    assert validators.assign(state, RULES, AssignRequest(agent="Sam", assignee="Bo")) is None


@pytest.mark.parametrize("to", ["supervisor", "chat"])
def test_escalate_to_a_supervisor_or_chat(to: str) -> None:
    assert validators.escalate(inquiry_state(), RULES, EscalateRequest(agent="Ana", to=to)) is None


def test_escalate_nowhere_else() -> None:
    assert (
        validators.escalate(inquiry_state(), RULES, EscalateRequest(agent="Ana", to="ceo"))
        == "cannot escalate to 'ceo': use supervisor or chat"
    )


# ---------------------------------------------------------------- reply threads on X


def sentence(words: int) -> str:
    return " ".join(f"word{n}" for n in range(words))


def rules_with_flow(flow: str) -> Ruleset:
    return ruleset_from_text(MINIMAL.replace("rules: []", f"flow: {flow}\nrules: []"), "m.yaml")


def test_a_public_reply_on_x_may_not_become_a_longer_thread_than_the_limit() -> None:
    """A 63 KB reply once became a 237-post thread; the default limit is 10 posts."""
    state = inquiry_state()  # a public post on X
    long = ReplyRequest(agent="Ana", text=sentence(600))  # 4,689 characters
    assert validators.reply(state, RULES, long) == (
        "the reply would take 18 posts on X; the limit is 10 (flow.max_reply_parts): "
        "shorten it or send it privately"
    )
    assert validators.reply(state, RULES, ReplyRequest(agent="Ana", text=sentence(300))) is None
    assert validators.reply(state, RULES, long.model_copy(update={"private": True})) is None
    two = rules_with_flow("{max_reply_parts: 2}")
    assert validators.reply(state, two, ReplyRequest(agent="Ana", text=sentence(100))) == (
        "the reply would take 3 posts on X; the limit is 2 (flow.max_reply_parts): "
        "shorten it or send it privately"
    )


def test_the_thread_limit_counts_the_signature_as_the_adapter_posts_it() -> None:
    """The reply goes out as ``text ^agent``: a text just within one post is two with it."""
    one = rules_with_flow("{max_reply_parts: 1}")
    text = "x" * 279
    assert validators.reply(inquiry_state(), one, ReplyRequest(agent="Ana", text=text)) == (
        "the reply would take 2 posts on X; the limit is 1 (flow.max_reply_parts): "
        "shorten it or send it privately"
    )


def test_only_public_threads_on_x_are_counted() -> None:
    long = ReplyRequest(agent="Ana", text=sentence(600))
    moved_by_dm = rules_with_flow("{long_replies: private}")
    assert validators.reply(inquiry_state(), moved_by_dm, long) is None
    assert validators.reply(inquiry_state("private-dm"), RULES, long) is None
    assert validators.reply(inquiry_state("return"), RULES, long) is None  # a Facebook comment
    assert validators.reply(None, None, long) is None  # checked again once the rules are loaded
