"""Where a delivery's posts go, and posting each of them at most once.

Every post is recorded under its own key: the delivery's key for a single post, ``<key>#<n>``
for the parts of a long text (a thread, numbered DMs), ``<key>#<suffix>`` for an extra post (a
DM's public pointer). Before the request leaves, an intent is recorded; after the platform's
2xx, the delivery. A retry skips what is recorded, so after part 2 of 3 it posts only part 3;
and where it finds an intent without a delivery (the earlier attempt's worker died, or its answer
was lost), it first looks for the post on the platform (``reconcile``) and records what it finds
instead of posting again. X and Meta share this.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio.exceptions import ApplicationError

from activities.adapters.reconcile import Seen, earlier_attempt
from activities.adapters.record import DeliveryRecord
from activities.types import Outbound

log = logging.getLogger("careflow.activities.posting")

# Posts one piece: (text, the key it is recorded under, the id it follows) → the platform's id.
Poster = Callable[[str, str, str], Awaitable[str]]
# Lists the brand's own posts where a piece would be: (the id it follows, the first attempt's
# time) → what the platform shows. None where the platform gives no way to look.
Look = Callable[[str, datetime], Awaitable[list[Seen]]]


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


async def post_one(
    record: DeliveryRecord,
    outbound: Outbound,
    key: str,
    text: str,
    follows: str,
    post: Poster,
    look: Look | None,
) -> str:
    """Posts ``text`` (following ``follows``) under ``key`` unless the record or the platform
    shows an earlier attempt did; records the intent first and the delivery after."""
    posted = record.find(key)
    if posted is not None:
        return posted
    since = record.intent(key)
    if since is not None:
        found = await _reconcile(record, outbound, key, text, follows, since, look)
        if found is not None:
            record.add(key, found, outbound.channel, outbound.kind, found=True)
            return found
    record.intend(key, outbound.channel)
    posted = await post(text, key, follows)
    record.add(key, posted, outbound.channel, outbound.kind)
    return posted


async def _reconcile(
    record: DeliveryRecord,
    outbound: Outbound,
    key: str,
    text: str,
    follows: str,
    since: datetime,
    look: Look | None,
) -> str | None:
    """The post an earlier attempt of ``key`` made, if the platform shows one.

    A look-up the platform refuses for good (no read permission) posts again, with a warning:
    refusing to deliver would be worse than the rare double. A passing failure (5xx, 429) is
    raised, so the activity retries and looks again rather than risk a double."""
    if look is None:
        log.warning(
            "%s: an earlier attempt of %s may have been posted and %s gives no way to look: "
            "posting again",
            outbound.channel,
            key,
            outbound.channel,
        )
        return None
    try:
        seen = await look(follows, since)
    except ApplicationError as error:
        if not error.non_retryable:
            raise
        log.warning(
            "%s: could not look for an earlier attempt of %s (%s): posting again",
            outbound.channel,
            key,
            error.message,
        )
        return None
    found = earlier_attempt(seen, text, follows or None, since, record.holds)
    if found is not None:
        log.info(
            "%s: %s was posted by an earlier attempt as %s: recorded, not posted again",
            outbound.channel,
            key,
            found,
        )
    return found


async def post_pieces(
    record: DeliveryRecord,
    outbound: Outbound,
    pieces: list[str],
    post: Poster,
    look: Look | None,
    keyed: bool,
    first: str = "",
) -> list[str]:
    """Posts ``pieces`` in order, each following the one before (the first follows
    ``first``), each at most once. ``keyed``: recorded under ``<key>#<n>`` (several pieces, or
    one that is part of something larger); else the single piece is the delivery's key."""
    if not keyed and len(pieces) > 1:
        raise ValueError("several pieces need keys of their own")
    ids: list[str] = []
    previous = first
    for n, piece in enumerate(pieces, 1):
        key = f"{outbound.key}#{n}" if keyed else outbound.key
        previous = await post_one(record, outbound, key, piece, previous, post, look)
        ids.append(previous)
    return ids


async def post_once(
    record: DeliveryRecord,
    outbound: Outbound,
    suffix: str,
    text: str,
    follows: str,
    post: Poster,
    look: Look | None,
) -> str:
    """One extra post of a delivery (a DM's public pointer), under ``<key>#<suffix>``."""
    key = f"{outbound.key}#{suffix}"
    return await post_one(record, outbound, key, text, follows, post, look)
