"""Who did an agent action, as careflow could tell, kept on the timeline entries it made.

The API and the console know the caller from a token: the name and role configured for it and a
token id (the first 12 hex digits of the token's sha256, never the token). The CLI only has what
``--agent`` says: its actions are marked self-asserted (``authenticated`` false).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# The patch under which actions record their actor (workflow.patched): histories from before it
# replay without it.
ACTORS_PATCH = "console-actors-recorded"

# The patch under which resolve, reopen, escalate and assign put their reason code on their entry.
REASONS_PATCH = "console-reason-codes"
# The entry each reason-coded action makes, by event name.
REASONED_EVENTS = frozenset({"resolved", "reopened", "escalated", "assigned"})

Channel = Literal["console", "api", "cli"]


class Actor(BaseModel):
    """The person behind an action and how careflow knows them."""

    name: str
    role: str | None = None  # agent, supervisor; None when self-asserted
    channel: Channel
    token_id: str | None = None
    authenticated: bool

    def describe(self) -> str:
        """One line for people, e.g. ``Ana (agent) in the console, token 3f8820d0ff6b``."""
        role = f" ({self.role})" if self.role else ""
        how = f", token {self.token_id}" if self.token_id else ", self-asserted"
        where = {"console": "in the console", "api": "over the API", "cli": "from the CLI"}
        return f"{self.name}{role} {where[self.channel]}{how}"
