"""The last line of defence, its pure parts: what an unexpected error in code that should never
raise (rule evaluation, calendars, clocks) becomes.

Temporal retries a workflow task that raises anything but a deliberate ``ApplicationError``
forever: the inquiry would be neither acknowledged nor escalated. So the workflow catches such
an error where it calls that code, tells a supervisor (once per distinct error) and carries on
with a fallback. A nondeterminism error is not caught: the code no longer matches the history,
and only a fixed worker replaying the task can help.
"""

from __future__ import annotations

from temporalio import workflow

from careflow.engine.ruleset import Decision, Values

# Escalate and carry on, instead of retrying the workflow task forever.
LAST_LINE_PATCH = "last-line-of-defence"
EVENT = "unexpected_error"  # the timeline entry


def recoverable(error: Exception) -> bool:
    """Whether the inquiry may carry on past ``error`` (not a nondeterminism error)."""
    return not isinstance(error, workflow.NondeterminismError)


def describe(error: Exception) -> str:
    """The error's type and message, as a supervisor reads it."""
    name = type(error).__name__
    return f"{name}: {error}" if str(error) else name


def reason(where: str, error: Exception) -> str:
    """The escalation's reason: where it happened, and the error."""
    return f"unexpected error in {where}: {describe(error)}"


def already_escalated(error: Exception, reasons: list[str]) -> bool:
    """Whether a supervisor was already told of this error (wherever it happened since)."""
    told = describe(error)
    return any(r.startswith("unexpected error in ") and r.endswith(told) for r in reasons)


def no_decision(event: str, values: Values) -> Decision:
    """What rules that failed decided: nothing fired, the values stay as they were."""
    return Decision(
        event=event, dropped=False, drop_reason=None, values=values, fired=[], why={}, actions=[]
    )
