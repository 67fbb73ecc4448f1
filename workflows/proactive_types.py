"""What crosses the proactive-post workflow's boundary: its input, a supervisor's decision,
its status, and the activity that replies to the open inquiries it covers.

Names and field shapes are part of recorded histories: rename nothing here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

PROACTIVE_WORKFLOW = "ProactivePost"
REPLY_OPEN_INQUIRIES = "reply_open_inquiries"
ProactiveState = Literal["awaiting", "posted", "rejected", "expired", "failed"]


class ProactiveInput(BaseModel):
    """One spike of one trend in one segment and period: the draft waits for a supervisor."""

    trend: str
    topic: str
    segment: str
    period_start: AwareDatetime
    count: int
    baseline: float
    channel: Literal["x", "facebook"]
    draft: str  # the post's template, rendered when the spike was seen
    approvers: str  # the target told that a draft waits
    approvers_webhook: str | None = None
    wait_seconds: int
    reply_template: str | None = None  # the source, rendered once the post's link is known
    variables: dict[str, Any] = {}  # ``trend`` and ``brand``, for the reply template


class ApproveRequest(BaseModel):
    """``approve``: post the draft, or ``text`` instead (the supervisor's edit)."""

    by: str
    text: str | None = None


class RejectRequest(BaseModel):
    """``reject``: post nothing, and say why."""

    by: str
    reason: str


class ProactiveStatus(BaseModel):
    """What ``careflow proactive list`` shows, from the ``status`` query."""

    id: str
    trend: str
    topic: str
    segment: str
    status: ProactiveState
    draft: str
    text: str | None = None  # what was posted (the draft, or the supervisor's edit)
    count: int
    baseline: float
    created_at: datetime
    expires_at: datetime | None = None  # when an undecided draft expires (None: older runs)
    decided_by: str | None = None
    reason: str | None = None
    post_id: str | None = None
    post_url: str | None = None
    replied: int = 0  # open inquiries answered with the reply template


class ReplyOpenRequest(BaseModel):
    """Reply once to each open inquiry of ``topic`` in ``segment`` with the rendered template."""

    key: str  # the proactive workflow's id: each inquiry's reply update carries it
    topic: str
    segment: str
    template: str
    variables: dict[str, Any]
    agent: str  # the approver, who signs the replies


class ReplyOpenResult(BaseModel):
    replied: list[str]  # inquiry ids answered (this time or by an earlier attempt)
    skipped: list[str]  # open inquiries that refused (closed meanwhile, …)
