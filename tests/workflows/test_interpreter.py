"""A rule decision as effects, without a Temporal server: what each action becomes, in which
order, and when an effect no longer applies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careflow.engine.ruleset import Decision, TakenAction
from tests.workflows.states import RULES, inquiry_state
from workflows.interpreter import (
    Close,
    Effect,
    Escalate,
    Invite,
    Notify,
    Reopen,
    applies,
    effects,
)
from workflows.outbound import Send


def decision(*actions: tuple[str, str, Any]) -> Decision:
    """A decision whose fired rules took ``actions`` (rule, kind, spec), in that order."""
    return Decision(
        event="customer.message",
        dropped=False,
        drop_reason=None,
        values=RULES.defaults,
        fired=list(dict.fromkeys(rule for rule, _, _ in actions)),
        why={},
        actions=[TakenAction(rule, kind, spec) for rule, kind, spec in actions],
    )


def test_each_action_becomes_its_effect() -> None:
    planned = effects(
        decision(
            ("ack", "reply", {"template": "ack"}),
            ("dm-ack", "reply", {"template": "ack", "private": True}),
            ("ask-dm", "invite_private", "dm_invite"),
            ("tell-pr", "notify", "pr-team"),
            ("tell-sup", "notify", {"target": "supervisors", "template": "ack"}),
            ("legal", "escalate", {"to": "supervisor", "reason": "legal threat"}),
            ("to-chat", "escalate", {"to": "chat"}),
            ("again", "reopen", "the customer is still waiting"),
        )
    )
    assert planned == [
        Send("reply", "rule:ack", template_name="ack"),
        Send("reply", "rule:dm-ack", template_name="ack", private=True),
        Invite("dm_invite", "rule:ask-dm"),
        Notify("pr-team", None, "rule:tell-pr"),
        Notify("supervisors", "ack", "rule:tell-sup"),
        Escalate("supervisor", "legal threat", "rule:legal"),
        Escalate("chat", "rule to-chat", "rule:to-chat"),
        Reopen("the customer is still waiting", "rule:again"),
    ]


def test_values_and_drops_are_no_effect() -> None:
    """``set`` and ``tag`` are in the decision's values already; ``drop`` ends triage."""
    planned = effects(
        decision(
            ("vip", "set", {"priority": "urgent"}),
            ("vip", "tag", ["vip"]),
            ("spam", "drop", "spam"),
        )
    )
    assert planned == []


def test_the_first_close_comes_after_everything_else() -> None:
    planned = effects(
        decision(
            ("thanks", "close", "customer confirmed the fix"),
            ("thanks-too", "close", "second reason"),
            ("tell-pr", "notify", "pr-team"),
        )
    )
    assert planned == [
        Notify("pr-team", None, "rule:tell-pr"),
        Close("customer confirmed the fix", "rule:thanks"),
    ]


EVERY_KIND: list[Effect] = [
    Send("reply", "rule:r", template_name="ack"),
    Invite("dm_invite", "rule:r"),
    Notify("pr-team", None, "rule:r"),
    Escalate("supervisor", "why", "rule:r"),
    Reopen("why", "rule:r"),
    Close("why", "rule:r"),
]


def test_a_closed_inquiry_only_notifies_and_escalates() -> None:
    state = inquiry_state(step="closed", close_reason="done")
    assert [type(e) for e in EVERY_KIND if applies(e, state)] == [Notify, Escalate]


def test_an_open_inquiry_sends_notifies_escalates_and_closes() -> None:
    state = inquiry_state(step="resolve")
    assert [type(e) for e in EVERY_KIND if applies(e, state)] == [
        Send,
        Invite,
        Notify,
        Escalate,
        Close,
    ]


@pytest.mark.parametrize(
    ("example", "changes", "invited"),
    [
        ("question", {"step": "acknowledge"}, True),
        ("question", {"step": "privatize"}, False),  # already invited
        ("question", {"private_at": datetime(2026, 11, 17, 16, tzinfo=UTC)}, False),
        ("private-dm", {}, False),  # a DM has no public side
    ],
)
def test_an_invitation_needs_a_public_conversation_not_yet_invited(
    example: str, changes: dict[str, Any], invited: bool
) -> None:
    assert applies(Invite("dm_invite", "rule:r"), inquiry_state(example, **changes)) is invited


@pytest.mark.parametrize(
    ("step", "reopened"), [("follow_up", True), ("resolve", False), ("acknowledge", False)]
)
def test_only_a_resolved_inquiry_is_reopened(step: str, reopened: bool) -> None:
    assert applies(Reopen("why", "rule:r"), inquiry_state(step=step)) is reopened
