"""The codes of an inquiry's timeline: every entry's ``event`` is one of these, beside its
sentence (``detail``), so an auditor's tools can count and filter what people read.

A new code is added here and in docs/workflow.md; tests/workflows/test_timeline_codes.py checks
that the workflow writes no other and that the documentation lists these.
"""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "received": "the post arrived and the inquiry started",
    "triaged": "the received rules set category, priority, queue and windows",
    "dropped": "the received rules dropped the post (noise): the inquiry ends",
    "rules": "rules fired on an event, named in order",
    "acknowledged": "an agent or the safety net acknowledged publicly",
    "assigned": "the inquiry was given to an agent",
    "step": "the inquiry moved to another step",
    "privatize": "the customer was invited to a private channel",
    "privatized": "the conversation continued privately",
    "privatize.given_up": "the customer did not move to the private channel in time",
    "customer.message": "the customer wrote again",
    "customer.edited": "the customer edited a message",
    "customer.withdrew": "the customer unsent a message",
    "message.out": "a message went to the customer (reply, acknowledgement, follow-up, …)",
    "moved": "a public message was sent privately instead",
    "delivery_failed": "a message could not be delivered",
    "notified": "a notification target was told",
    "escalated": "the inquiry was escalated to a supervisor, a team or live chat",
    "chat": "a live-chat session was opened for the customer",
    "window.warning": "a clock passed its warning",
    "window.internal": "a clock passed its internal target",
    "window.published": "a clock missed its published window",
    "resolved": "an agent resolved the inquiry with a code",
    "reopened": "the inquiry reopened",
    "rating.asked": "the follow-up asked for a rating with Messenger's feedback template",
    "rated": "the customer rated the service",
    "qa.sampled": "the closed inquiry was sampled for a quality review",
    "closed": "the inquiry closed",
    "continued_as_new": "the history grew long and a new run carries on",
    "unexpected_error": "an unexpected error was escalated and the inquiry carried on",
}
