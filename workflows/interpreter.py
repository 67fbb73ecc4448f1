"""What a rule decision asks the inquiry to do: its actions as effects, in order. Pure.

``set`` and ``tag`` are already in the decision's values and ``drop`` is handled at triage, so
they become no effect. ``close`` takes effect after the others (the first one, once).

Effects run one after another, and an earlier one can move the inquiry (an invitation moves it to
``privatize``, a reopen runs the ``reopened`` rules, which may close it). So whether an effect
still applies is decided by ``applies`` against the state at its turn, not when it is planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from careflow.engine.ruleset import Decision
from workflows.outbound import Send
from workflows.state import InquiryState


@dataclass(frozen=True)
class Invite:
    """Invite the customer to a private channel with ``template``."""

    template: str
    by: str


@dataclass(frozen=True)
class Notify:
    """Tell a team's webhook, with ``template`` or a one-line summary."""

    target: str
    template: str | None
    by: str


@dataclass(frozen=True)
class Escalate:
    """Hand to a supervisor or to live chat."""

    to: str
    reason: str
    by: str


@dataclass(frozen=True)
class Reopen:
    """Reopen a resolved inquiry."""

    reason: str
    by: str


@dataclass(frozen=True)
class Close:
    """Close the inquiry."""

    reason: str
    by: str


# A rule's ``reply`` is a ``Send`` as it stands.
Effect = Send | Invite | Notify | Escalate | Reopen | Close


def effects(decision: Decision) -> list[Effect]:
    """The decision's actions as effects, in the order the rules gave them; a close comes last."""
    planned: list[Effect] = []
    close: Close | None = None
    for action in decision.actions:
        by, spec = f"rule:{action.rule}", action.spec
        if action.kind == "reply":
            planned.append(
                Send(
                    "reply", by, template_name=spec["template"], private=spec.get("private", False)
                )
            )
        elif action.kind == "invite_private":
            planned.append(Invite(spec, by))
        elif action.kind == "notify":
            if isinstance(spec, str):
                planned.append(Notify(spec, None, by))
            else:
                planned.append(Notify(spec["target"], spec.get("template"), by))
        elif action.kind == "escalate":
            planned.append(Escalate(spec["to"], spec.get("reason") or f"rule {action.rule}", by))
        elif action.kind == "reopen":
            planned.append(Reopen(spec, by))
        elif action.kind == "close" and close is None:
            close = Close(spec, by)
    return planned if close is None else [*planned, close]


def applies(effect: Effect, state: InquiryState) -> bool:
    """Whether an effect still makes sense now: a closed inquiry only notifies and escalates, an
    invitation needs a public conversation not already invited, a reopen a resolved inquiry."""
    if state.step == "closed":
        return isinstance(effect, Notify | Escalate)
    if isinstance(effect, Invite):
        return not state.private_channel and state.step != "privatize"
    if isinstance(effect, Reopen):
        return state.step == "follow_up"
    return True
