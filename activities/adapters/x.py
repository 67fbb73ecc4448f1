"""Posting to X (API v2): replies, reply threads, DMs, and long replies by DM.

A public reply is ``POST /2/tweets`` replying to ``in_reply_to``. A private one is a DM,
``POST /2/dm_conversations/with/{user id}/messages``: in a private conversation the conversation
id is the user id, otherwise the post author's id (``recipient_id``), or else it is looked up
from the handle with ``GET /2/users/by/username/{handle}``.

A public reply over 280 characters (counted roughly as X does, see ``x_length``) follows
``outbound.long_replies``: ``split`` posts a thread of numbered parts (``… (1/3)``), each replying
to the part before; ``private`` sends the whole text as a DM and posts a short public reply
pointing to it (``Delivery.private = True``). A DM over 10 000 characters is several numbered
DMs.
"""

from __future__ import annotations

import functools

import httpx

from activities.adapters.http import Api, posted_id, rejected
from activities.adapters.posting import is_private, moved, post_once, post_pieces
from activities.adapters.record import DeliveryRecord
from activities.types import Delivery, Outbound
from careflow.engine.text_parts import X_DM_LIMIT, X_TEXT_LIMIT, split_text, x_length
from careflow.settings import PlatformSettings


class XPoster:
    """Posts to X; remembers the user ids it looked up by handle, for the next DMs."""

    def __init__(self, settings: PlatformSettings, record: DeliveryRecord) -> None:
        self.settings = settings
        self.record = record
        self._user_ids: dict[str, str] = {}

    async def deliver(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        """A reply, a thread, a DM, or a DM with a public pointer, as the text and kind ask."""
        api = Api.bearer(
            client,
            "X",
            self.settings.x_api_base,
            self.settings.x_bearer_token,
            "no X token: set CAREFLOW_X_BEARER_TOKEN",
        )
        tweet = functools.partial(self._tweet, api, outbound.channel)
        if is_private(outbound):
            ids = await self._dm(api, outbound, text, keyed=False)
            return Delivery(
                key=outbound.key, id=ids[0], text=text, parts=len(ids), private=moved(outbound)
            )
        if x_length(text) <= X_TEXT_LIMIT:
            posted = await tweet(text, outbound.key, outbound.in_reply_to)
            return Delivery(key=outbound.key, id=posted, text=text)
        if outbound.long_replies == "private":
            ids = await self._dm(api, outbound, text, keyed=True)
            pointer = f"@{outbound.recipient.lstrip('@')} we've sent you a DM with the details."
            await post_once(
                self.record,
                outbound,
                "pointer",
                functools.partial(tweet, pointer, f"{outbound.key}#pointer", outbound.in_reply_to),
            )
            return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids), private=True)
        pieces = split_text(text, X_TEXT_LIMIT, x_length)
        ids = await post_pieces(
            self.record, outbound, pieces, tweet, keyed=True, first=outbound.in_reply_to
        )
        return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids))

    async def _tweet(self, api: Api, channel: str, text: str, key: str, in_reply_to: str) -> str:
        payload = {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}}
        body = await api.call("POST", "/2/tweets", payload)
        return posted_id(body, key, channel, "data", "id")

    async def _dm(self, api: Api, outbound: Outbound, text: str, keyed: bool) -> list[str]:
        if outbound.conversation_kind == "private":
            participant = outbound.conversation_id  # a DM conversation is keyed by the sender
        elif outbound.recipient_id:
            participant = outbound.recipient_id  # the post's author: the same X user id
        else:
            participant = await self._user_id(api, outbound.recipient)
        path = f"/2/dm_conversations/with/{participant}/messages"

        async def post(piece: str, key: str, previous: str) -> str:
            body = await api.call("POST", path, {"text": piece})
            return posted_id(body, key, outbound.channel, "data", "dm_event_id")

        pieces = split_text(text, X_DM_LIMIT)
        return await post_pieces(
            self.record, outbound, pieces, post, keyed=keyed or len(pieces) > 1
        )

    async def _user_id(self, api: Api, handle: str) -> str:
        """A handle's user id, asked of X once per handle (handles change; ids do not)."""
        handle = handle.lstrip("@")
        if handle not in self._user_ids:
            body = await api.call("GET", f"/2/users/by/username/{handle}", None)
            data = body.get("data")
            if not isinstance(data, dict) or not data.get("id"):
                raise rejected(f"X knows no user @{handle}: cannot send a DM")
            self._user_ids[handle] = str(data["id"])
        return self._user_ids[handle]
