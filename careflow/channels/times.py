"""Post times the clocks can trust: one from far in the future (``9999-12-31``) would set timers
nobody lives to see, and one from before the platform existed is a broken payload. Either is
replaced by the time the delivery was received, and the replacement is reported, never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from careflow.channels.common import Normalized
from careflow.engine.post import Inquiry

# Platforms' clocks and ours disagree by seconds; a post minutes ahead of us is wrong.
FUTURE_SLACK = timedelta(minutes=5)
# Nothing was posted on a platform before it launched.
LAUNCHED = {
    "x": datetime(2006, 3, 21, tzinfo=UTC),
    "facebook": datetime(2004, 2, 4, tzinfo=UTC),
    "messenger": datetime(2004, 2, 4, tzinfo=UTC),
    "instagram": datetime(2010, 10, 6, tzinfo=UTC),
}
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # any other channel (the generic door)


@dataclass(frozen=True)
class Clamped:
    """A post whose ``created_at`` was replaced by the time its delivery was received."""

    id: str
    channel: str
    created_at: datetime  # as the payload said
    received_at: datetime  # what the inquiry uses instead
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "used": self.received_at.isoformat(),
            "reason": self.reason,
        }


def clamp_time(post: Inquiry, received_at: datetime) -> tuple[Inquiry, Clamped | None]:
    """``post`` unchanged when its time is plausible, else restamped ``received_at`` and why."""
    earliest = LAUNCHED.get(post.channel, EARLIEST)
    if post.created_at > received_at + FUTURE_SLACK:
        reason = f"more than {FUTURE_SLACK.seconds // 60} minutes in the future"
    elif post.created_at < earliest:
        reason = f"before {post.channel} existed ({earliest.date().isoformat()})"
    else:
        return post, None
    clamped = Clamped(post.id, post.channel, post.created_at, received_at, reason)
    return post.model_copy(update={"created_at": received_at}), clamped


def clamp_times(found: Normalized, received_at: datetime) -> tuple[Normalized, list[Clamped]]:
    """Every inquiry and echo of a delivery through ``clamp_time``: what to take in, and what
    was restamped."""
    notes: list[Clamped] = []

    def each(posts: list[Inquiry]) -> list[Inquiry]:
        kept = []
        for post in posts:
            post, note = clamp_time(post, received_at)
            kept.append(post)
            if note is not None:
                notes.append(note)
        return kept

    return replace(found, inquiries=each(found.inquiries), echoes=each(found.echoes)), notes
