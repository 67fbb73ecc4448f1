"""Who has an inquiry's page open, so a colleague sees "Ana is viewing this" before both reply.

Kept in this process's memory: an inquiry page and its poll (every two seconds) say who is
there, and a name is forgotten ``EXPIRES`` seconds after its last poll (a closed tab). With
several API processes behind a load balancer each knows only its own viewers: the notice is a
courtesy, never a lock (two agents may still act; the workflow orders their actions).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

EXPIRES = 8.0  # seconds: a few missed polls, then the viewer is gone
MOST_INQUIRIES = 10_000  # bounds the memory a flood of page views can take


@dataclass
class Presence:
    """Names seen on each inquiry's page, with when each stops counting."""

    expires: float = EXPIRES
    _seen: dict[str, dict[str, float]] = field(default_factory=dict)

    def saw(self, inquiry_id: str, name: str, now: float | None = None) -> None:
        """``name`` has ``inquiry_id`` open now."""
        at = time.monotonic() if now is None else now
        if len(self._seen) >= MOST_INQUIRIES and inquiry_id not in self._seen:
            self._forget(at)
        self._seen.setdefault(inquiry_id, {})[name] = at + self.expires

    def others(self, inquiry_id: str, me: str, now: float | None = None) -> list[str]:
        """Who else has ``inquiry_id`` open, by name."""
        at = time.monotonic() if now is None else now
        names = self._seen.get(inquiry_id, {})
        return sorted(name for name, until in names.items() if until > at and name != me)

    def _forget(self, at: float) -> None:
        for inquiry_id in list(self._seen):
            names = {n: until for n, until in self._seen[inquiry_id].items() if until > at}
            if names:
                self._seen[inquiry_id] = names
            else:
                del self._seen[inquiry_id]
        if len(self._seen) >= MOST_INQUIRIES:  # all fresh: drop the oldest entries
            for inquiry_id in list(self._seen)[: MOST_INQUIRIES // 10]:
                del self._seen[inquiry_id]
