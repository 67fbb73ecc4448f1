"""Where a delivery's posts go, and posting several of them at most once each.

A long text takes several posts (a thread, numbered DMs, a DM and its public pointer). Each is
recorded under ``<key>#<n>`` (``<key>#<suffix>``) as soon as the platform accepts it, so a retry
after part 2 of 3 posts only part 3. X and Meta share this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from activities.adapters.record import DeliveryRecord
from activities.types import Outbound

# Posts one piece: (text, the key it is recorded under, the id it follows) → the platform's id.
Poster = Callable[[str, str, str], Awaitable[str]]


def is_private(outbound: Outbound) -> bool:
    """Where a message goes: privately when asked, and always in a private conversation."""
    return (
        outbound.private
        or outbound.conversation_kind == "private"
        or (outbound.channel == "messenger")
    )


def moved(outbound: Outbound) -> bool | None:
    """``Delivery.private`` for a message sent privately though asked to go public."""
    return True if is_private(outbound) and not outbound.private else None


async def post_pieces(
    record: DeliveryRecord,
    outbound: Outbound,
    pieces: list[str],
    post: Poster,
    keyed: bool,
    first: str = "",
) -> list[str]:
    """Posts ``pieces`` in order, each following the one before (the first follows
    ``first``). ``keyed``: each is recorded under ``<key>#<n>`` as soon as it is posted and
    skipped when already there, so a retry goes on where the last attempt stopped."""
    ids: list[str] = []
    previous = first
    for n, piece in enumerate(pieces, 1):
        key = f"{outbound.key}#{n}" if keyed else outbound.key
        posted = record.find(key) if keyed else None
        if posted is None:
            posted = await post(piece, key, previous)
            if keyed:
                record.add(key, posted, outbound.channel, outbound.kind)
        ids.append(posted)
        previous = posted
    return ids


async def post_once(
    record: DeliveryRecord, outbound: Outbound, suffix: str, post: Callable[[], Awaitable[str]]
) -> str:
    """One extra post of a delivery, recorded under ``<key>#<suffix>``."""
    key = f"{outbound.key}#{suffix}"
    posted = record.find(key)
    if posted is None:
        posted = await post()
        record.add(key, posted, outbound.channel, outbound.kind)
    return posted
