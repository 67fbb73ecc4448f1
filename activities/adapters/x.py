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

Before posting again after an attempt that may have landed, the brand's own posts are read back
(``reconcile``): its recent tweets (``GET /2/users/{id}/tweets``, the id from ``GET
/2/users/me``) for a reply or a thread part, and the DM conversation's events (``GET
/2/dm_conversations/with/{id}/dm_events``) for a DM. The token needs ``tweet.read`` and
``dm.read``; without them the retry posts again, with a warning.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from activities.adapters.http import Api, posted_id, rejected
from activities.adapters.posting import Look, is_private, moved, post_once, post_pieces
from activities.adapters.reconcile import CLOCK_SKEW, LOOK_PAGES, Seen, platform_time
from activities.adapters.record import DeliveryRecord
from activities.adapters.x_tokens import XTokens
from activities.types import Delivery, Outbound
from careflow.engine.text_parts import X_DM_LIMIT, X_TEXT_LIMIT, split_text, x_length
from careflow.settings import PlatformSettings


class XPoster:
    """Posts to X; remembers the user ids it looked up by handle, for the next DMs."""

    def __init__(
        self, settings: PlatformSettings, record: DeliveryRecord, tokens: XTokens | None = None
    ) -> None:
        self.settings = settings
        self.record = record
        self.tokens = tokens or XTokens(settings, record.path.parent)
        self._user_ids: dict[str, str] = {}
        self._me: str | None = None

    async def api(self, client: httpx.AsyncClient) -> Api:
        """X as the brand's token sees it: with a refresh token, a token renewed when due and
        after a 401 (once; ``x_tokens``); else ``CAREFLOW_X_BEARER_TOKEN`` as it is."""
        token = await self.tokens.current(client)
        renew = functools.partial(self.tokens.renew, client) if self.tokens.refreshing else None
        return Api.bearer(client, "X", self.settings.x_api_base, token, "no X token", renew)

    async def deliver(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        """A reply, a thread, a DM, or a DM with a public pointer, as the text and kind ask."""
        api = await self.api(client)
        tweet = functools.partial(self._tweet, api, outbound.channel)
        replies = functools.partial(self._look_tweets, api)
        if is_private(outbound):
            ids = await self._dm(api, outbound, text, keyed=False)
            return Delivery(
                key=outbound.key, id=ids[0], text=text, parts=len(ids), private=moved(outbound)
            )
        if x_length(text) <= X_TEXT_LIMIT:
            ids = await post_pieces(
                self.record,
                outbound,
                [text],
                tweet,
                replies,
                keyed=False,
                first=outbound.in_reply_to,
            )
            return Delivery(key=outbound.key, id=ids[0], text=text)
        if outbound.long_replies == "private":
            ids = await self._dm(api, outbound, text, keyed=True)
            pointer = f"@{outbound.recipient.lstrip('@')} we've sent you a DM with the details."
            await post_once(
                self.record, outbound, "pointer", pointer, outbound.in_reply_to, tweet, replies
            )
            return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids), private=True)
        pieces = split_text(text, X_TEXT_LIMIT, x_length)
        ids = await post_pieces(
            self.record, outbound, pieces, tweet, replies, keyed=True, first=outbound.in_reply_to
        )
        return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids))

    async def post_public(
        self, client: httpx.AsyncClient, outbound: Outbound, text: str
    ) -> Delivery:
        """The brand's own post (a proactive post): a tweet that replies to nothing, at most
        once per key (an earlier attempt is looked for among the brand's tweets)."""
        if x_length(text) > X_TEXT_LIMIT:
            raise rejected(
                f"the post is {x_length(text)} characters; X takes {X_TEXT_LIMIT}: shorten it"
            )
        api = await self.api(client)
        tweet = functools.partial(self._tweet, api, outbound.channel)
        replies = functools.partial(self._look_tweets, api)
        ids = await post_pieces(self.record, outbound, [text], tweet, replies, keyed=False)
        return Delivery(key=outbound.key, id=ids[0], text=text)

    async def _tweet(self, api: Api, channel: str, text: str, key: str, in_reply_to: str) -> str:
        payload: dict[str, object] = {"text": text}
        if in_reply_to:  # a proactive post replies to nothing
            payload["reply"] = {"in_reply_to_tweet_id": in_reply_to}
        body = await api.call("POST", "/2/tweets", payload)
        return posted_id(body, key, channel, "data", "id")

    async def _dm(self, api: Api, outbound: Outbound, text: str, keyed: bool) -> list[str]:
        if outbound.conversation_kind == "private":
            participant = outbound.conversation_id  # a DM conversation is keyed by the sender
        elif outbound.recipient_id:
            participant = outbound.recipient_id  # the post's author: the same X user id
        else:
            participant = await self._user_id(api, outbound.recipient)
        path = f"/2/dm_conversations/with/{quote(participant, safe='')}/messages"

        async def post(piece: str, key: str, previous: str) -> str:
            body = await api.call("POST", path, {"text": piece})
            return posted_id(body, key, outbound.channel, "data", "dm_event_id")

        look: Look = functools.partial(self._look_dms, api, participant)
        pieces = split_text(text, X_DM_LIMIT)
        return await post_pieces(
            self.record, outbound, pieces, post, look, keyed=keyed or len(pieces) > 1
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

    async def _brand(self, api: Api) -> str:
        """The brand's own X user id (the token's user), asked once."""
        if self._me is None:
            body = await api.call("GET", "/2/users/me", None)
            data = body.get("data")
            if not isinstance(data, dict) or not data.get("id"):
                raise rejected("X did not say whose token this is (GET /2/users/me)")
            self._me = str(data["id"])
        return self._me

    async def _look_tweets(self, api: Api, follows: str, since: datetime) -> list[Seen]:
        """The brand's tweets since the first attempt, with what each replies to."""
        me = await self._brand(api)
        start = (since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = {
            "start_time": start,
            "max_results": "100",
            "tweet.fields": "created_at,referenced_tweets",
        }
        seen: list[Seen] = []
        for data in await _pages(api, f"/2/users/{me}/tweets", query):
            replied = [
                str(ref.get("id"))
                for ref in data.get("referenced_tweets") or []
                if isinstance(ref, dict) and ref.get("type") == "replied_to"
            ]
            seen.append(
                Seen(
                    id=str(data.get("id")),
                    text=str(data.get("text") or ""),
                    at=platform_time(data.get("created_at")),
                    follows=replied[0] if replied else "",
                )
            )
        return seen

    async def _look_dms(
        self, api: Api, participant: str, follows: str, since: datetime
    ) -> list[Seen]:
        """The brand's messages in the DM conversation with ``participant``."""
        me = await self._brand(api)
        query = {
            "max_results": "100",
            "event_types": "MessageCreate",
            "dm_event.fields": "created_at,sender_id,text",
        }
        path = f"/2/dm_conversations/with/{quote(participant, safe='')}/dm_events"
        return [
            Seen(
                id=str(event.get("id")),
                text=str(event.get("text") or ""),
                at=platform_time(event.get("created_at")),
            )
            for event in await _pages(api, path, query, until=since - CLOCK_SKEW)
            if str(event.get("sender_id")) == me
        ]


async def _pages(
    api: Api, path: str, query: dict[str, str], until: datetime | None = None
) -> list[dict[str, Any]]:
    """Up to ``LOOK_PAGES`` pages of an X list, newest first; stops at ``until`` when given."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(LOOK_PAGES):
        asked = {**query, **({"pagination_token": token} if token else {})}
        body = await api.call("GET", f"{path}?{urlencode(asked)}", None)
        data = [item for item in body.get("data") or [] if isinstance(item, dict)]
        found.extend(data)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        token = meta.get("next_token") if isinstance(meta, dict) else None
        oldest = platform_time(data[-1].get("created_at")) if data else None
        if not token or (until is not None and oldest is not None and oldest < until):
            break
    return found
