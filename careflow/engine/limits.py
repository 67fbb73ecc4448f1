"""How much of a customer's text the rules evaluate, per channel: the platform's own maximum.

A post longer than its platform allows is not a real post on that channel (a pasted log, a
crafted payload); the rules read it up to the limit and the inquiry keeps it whole. The numbers
are the platforms' maximums, generous where they vary: X counts 280 weighted characters (25,000
for subscribers' long posts, rarely used for care; 4,000 here), X DMs hold 10,000, Facebook
comments 8,000, Instagram comments 2,200, Messenger and Instagram messages 2,000. A channel not
listed (webhooks, live chat) gets 10,000.
"""

from __future__ import annotations

EVALUATED_TEXT_LIMITS: dict[tuple[str, str], int] = {
    ("x", "public"): 4_000,
    ("x", "private"): 10_000,
    ("facebook", "public"): 8_000,
    ("facebook", "private"): 2_000,
    ("instagram", "public"): 2_200,
    ("instagram", "private"): 2_000,
    ("messenger", "public"): 2_000,
    ("messenger", "private"): 2_000,
}
DEFAULT_EVALUATED_TEXT_LIMIT = 10_000


def evaluated_limit(channel: str, kind: str) -> int:
    """How many characters of a ``kind`` (public/private) message on ``channel`` rules read."""
    return EVALUATED_TEXT_LIMITS.get((channel, kind), DEFAULT_EVALUATED_TEXT_LIMIT)


def evaluated_text(text: str, channel: str, kind: str) -> str:
    """``text`` as far as the rules read it on ``channel`` for a ``kind`` (public/private) message."""
    return text[: evaluated_limit(channel, kind)]
