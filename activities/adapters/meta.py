"""Posting to Meta (Graph API): Facebook and Instagram comments, Messenger, Private Replies.

A public reply is a comment on ``in_reply_to`` (``/comments`` on Facebook, ``/replies`` on
Instagram; an Instagram @mention on someone else's media goes by the account's ``/mentions``); a comment over 8000 characters is refused (``DeliveryRejected``), not split. A
message in a private conversation (every Messenger one) goes by the Send API, ``POST /me/messages``
to ``recipient.id = conversation_id`` (the customer's page-scoped id), in numbered messages of at
most 2000 characters.

A private message on a public comment is one of Meta's Private Replies: ``recipient.comment_id``,
one message per comment, within 7 days of it. The adapter remembers which comments it has
privately replied to, and refuses a second private message on the same comment before asking
Meta: from there on only the customer can open the conversation, by messaging the Page. Their
message continues the comment's inquiry, and its later private messages go to their Messenger
thread (``recipient.id = recipient_id``, once ``customer_in_private``). Meta's own refusal (Graph
error 10900) says the same. The 7-day limit is Meta's to enforce: its refusal is final too.

Messenger and Instagram messages follow Meta's 24-hour window (``messaging_window``). A
follow-up that asks with Messenger's customer-feedback template (``Outbound.feedback``) goes as
that template (``careflow.engine.messenger_feedback``) to the same thread.

Before posting again after an attempt that may have landed, the Page's own posts are read back
(``reconcile``): the comment's replies (``GET /{comment}/comments`` or ``/replies``) for a
comment, the conversation's messages (``GET /me/conversations?user_id=…``) for a message, each
filtered by the Page's (or its Instagram account's) id from ``GET /me``. A Private Reply cannot be
looked up (the customer's conversation is not known yet), but Meta allows one per comment: a
retry that Meta answers with error 10900 after an attempt that may have landed is that attempt's
reply, recorded as delivered.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import httpx
from temporalio.exceptions import ApplicationError

from activities.adapters.http import Api, posted_id, rejected
from activities.adapters.posting import moved, post_pieces
from activities.adapters.reconcile import LOOK_PAGES, Seen, platform_time
from activities.adapters.record import DeliveryRecord
from activities.types import Delivery, Outbound
from careflow.engine.messenger_feedback import sending, template_message
from careflow.engine.post import instagram_mention
from careflow.engine.text_parts import split_text
from careflow.settings import PlatformSettings

MESSENGER_TEXT_LIMIT = 2000  # Send API: per message, Messenger and Instagram
META_COMMENT_LIMIT = 8000
META_CHANNELS = ("facebook", "instagram", "messenger")
# Graph error codes Meta answers a Private Reply with when the comment had its one already.
ALREADY_REPLIED_CODES = frozenset({10900})
# Meta's messaging policy: any message within 24 h of the customer's latest, a person's for 7 days.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def messaging_window(outbound: Outbound, now: datetime) -> dict[str, str]:
    """How a Messenger/Instagram message may go under Meta's messaging policy: a ``RESPONSE``
    within 24 hours of the customer's latest message; after that only a person may write, for
    7 days, with the ``HUMAN_AGENT`` tag. An automated message after 24 hours (a follow-up, a
    reminder) is refused here, so a person sends it (the workflow escalates)."""
    last = outbound.customer_last_at
    if last is None or now - last <= STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if outbound.human and now - last <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    waited = now - last
    hours = int(waited.total_seconds() // 3600)
    who = "an agent's message" if outbound.human else f"an automated {outbound.kind}"
    raise rejected(
        f"Meta's messaging window is closed for {who}: the customer last wrote {hours} hours "
        "ago (24 hours for any message, 7 days for a person's, with the HUMAN_AGENT tag)"
    )


class MetaPoster:
    """Posts to Facebook, Instagram and Messenger with the Page's token."""

    def __init__(self, settings: PlatformSettings, record: DeliveryRecord) -> None:
        self.settings = settings
        self.record = record
        self._accounts: dict[str, str] | None = None

    def _api(self, client: httpx.AsyncClient) -> Api:
        return Api.bearer(
            client,
            "Meta",
            self.settings.meta_graph_base,
            self.settings.meta_page_token,
            "no Meta Page token: set CAREFLOW_META_PAGE_TOKEN",
        )

    async def deliver(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        """A comment, a Private Reply, or Send API messages, as the conversation allows."""
        api = self._api(client)
        # A public comment's author who has since messaged the Page (their answer to the
        # invitation) is written to in that Messenger thread, by their page-scoped id.
        thread = outbound.conversation_id
        public_to_private = outbound.conversation_kind == "public" and outbound.private
        if public_to_private and outbound.customer_in_private and outbound.recipient_id:
            thread = outbound.recipient_id
        if (
            outbound.conversation_kind == "private"
            or outbound.channel == "messenger"
            or thread != outbound.conversation_id
        ):
            return await self._messages(api, outbound, text, thread)
        if outbound.private:
            posted = await self._private_reply(api, outbound, text)
            return Delivery(key=outbound.key, id=posted, text=text)
        if len(text) > META_COMMENT_LIMIT:
            raise rejected(
                f"the reply is {len(text)} characters; a {outbound.channel} comment holds "
                f"{META_COMMENT_LIMIT}: shorten it"
            )
        mentioned = (
            instagram_mention(outbound.in_reply_to) if outbound.channel == "instagram" else None
        )
        if mentioned is not None:
            return await self._mention_reply(api, outbound, text, *mentioned)
        edge = "replies" if outbound.channel == "instagram" else "comments"

        async def post(piece: str, key: str, previous: str) -> str:
            body = await api.call("POST", f"/{quote(previous, safe='')}/{edge}", {"message": piece})
            return posted_id(body, key, outbound.channel, "id")

        look = functools.partial(self._look_comments, api, outbound.channel, edge)
        ids = await post_pieces(
            self.record, outbound, [text], post, look, keyed=False, first=outbound.in_reply_to
        )
        return Delivery(key=outbound.key, id=ids[0], text=text)

    async def _mention_reply(
        self, api: Api, outbound: Outbound, text: str, media: str, comment: str | None
    ) -> Delivery:
        """A reply to an Instagram @mention on someone else's media: ``POST
        /{ig-user}/mentions`` with the media (and the comment, for a mention in one). The brand
        cannot list replies on others' media, so a retry after a lost answer cannot look first
        (it posts again, with a warning)."""
        account = (await self._page(api)).get("instagram", "")
        if not account:
            raise rejected(
                "the Page token's Page has no Instagram business account: cannot answer a mention"
            )
        payload = {
            "media_id": media,
            "message": text,
            **({"comment_id": comment} if comment else {}),
        }

        async def post(piece: str, key: str, previous: str) -> str:
            body = await api.call("POST", f"/{quote(account, safe='')}/mentions", payload)
            return posted_id(body, key, outbound.channel, "id")

        ids = await post_pieces(
            self.record, outbound, [text], post, None, keyed=False, first=outbound.in_reply_to
        )
        return Delivery(key=outbound.key, id=ids[0], text=text)

    async def _messages(self, api: Api, outbound: Outbound, text: str, thread: str) -> Delivery:
        """Send API messages to ``thread`` (a page-scoped id), numbered when the text is long."""
        if outbound.feedback is not None and outbound.channel == "messenger":
            return await self._feedback_template(api, outbound, thread)
        window = messaging_window(outbound, datetime.now(UTC))

        async def post(piece: str, key: str, previous: str) -> str:
            payload = {"recipient": {"id": thread}, **window, "message": {"text": piece}}
            body = await api.call("POST", "/me/messages", payload)
            return posted_id(body, key, outbound.channel, "message_id")

        look = functools.partial(self._look_messages, api, outbound.channel, thread)
        pieces = split_text(text, MESSENGER_TEXT_LIMIT)
        ids = await post_pieces(self.record, outbound, pieces, post, look, keyed=len(pieces) > 1)
        return Delivery(
            key=outbound.key, id=ids[0], text=text, parts=len(ids), private=moved(outbound)
        )

    async def _feedback_template(self, api: Api, outbound: Outbound, thread: str) -> Delivery:
        """Messenger's customer-feedback template (``template_message``), once per key: a
        ``RESPONSE`` within 24 hours of the customer's latest message, then for 7 days with
        its own ``CUSTOMER_FEEDBACK`` tag (``sending``). Meta lists it among the Page's
        messages without text, so a retry after a lost answer looks for a Page message with no
        text since the attempt."""
        assert outbound.feedback is not None
        card = outbound.feedback
        last = outbound.customer_last_at
        window = sending(datetime.now(UTC) - last) if last is not None else None
        if last is not None and window is None:
            days = (datetime.now(UTC) - last).days
            raise rejected(
                "Meta's window for the customer-feedback template is closed: the customer last "
                f"wrote {days} days ago (7 days with the CUSTOMER_FEEDBACK tag)"
            )
        window = window or {"messaging_type": "RESPONSE"}

        async def post(piece: str, key: str, previous: str) -> str:
            message = template_message(card)
            payload = {"recipient": {"id": thread}, **window, "message": message}
            body = await api.call("POST", "/me/messages", payload)
            return posted_id(body, key, outbound.channel, "message_id")

        look = functools.partial(self._look_messages, api, outbound.channel, thread)
        ids = await post_pieces(self.record, outbound, [""], post, look, keyed=False)
        return Delivery(key=outbound.key, id=ids[0], text=card.title, private=moved(outbound))

    async def _private_reply(self, api: Api, outbound: Outbound, text: str) -> str:
        """Meta's Private Replies: one message to the author of a public comment."""
        comment = outbound.in_reply_to
        marker = f"private-reply/{outbound.channel}/{comment}"
        refusal = (
            f"this {outbound.channel} comment already had its one private reply (Meta's Private "
            "Replies allow one message per comment): the customer must message the Page first "
            "to continue in private"
        )
        if self.record.find(marker) is not None:
            raise rejected(refusal)
        if len(text) > MESSENGER_TEXT_LIMIT:
            raise rejected(
                f"the private reply is {len(text)} characters; a private reply to a comment is "
                f"one message of at most {MESSENGER_TEXT_LIMIT}: shorten it"
            )
        payload = {
            "recipient": {"comment_id": comment},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        earlier = self.record.intent(outbound.key) is not None
        self.record.intend(outbound.key, outbound.channel)
        landed_before = False
        try:
            body = await api.call(
                "POST",
                "/me/messages",
                payload,
                final={code: refusal for code in ALREADY_REPLIED_CODES},
            )
        except ApplicationError as error:
            if not (earlier and set(error.details) & ALREADY_REPLIED_CODES):
                raise
            # The earlier attempt's reply landed (Meta allows one): it is this delivery's.
            body, landed_before = {}, True
        posted = posted_id(body, outbound.key, outbound.channel, "message_id")
        self.record.add(outbound.key, posted, outbound.channel, outbound.kind, found=landed_before)
        self.record.add(marker, posted, outbound.channel, outbound.kind)
        return posted

    async def page_post(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        """The brand's own post on its Facebook Page (``POST /{page-id}/feed``), at most once
        per key (an earlier attempt is looked for in the Page's feed)."""
        api = self._api(client)
        page = (await self._page(api)).get("facebook", "")
        if not page:
            raise rejected("Meta did not say which Page the token is for (GET /me)")

        async def post(piece: str, key: str, previous: str) -> str:
            body = await api.call("POST", f"/{quote(page, safe='')}/feed", {"message": piece})
            return posted_id(body, key, outbound.channel, "id")

        async def look(follows: str, since: datetime) -> list[Seen]:
            query = {"fields": "id,message,created_time", "since": str(int(since.timestamp()))}
            items = await _pages(api, f"/{quote(page, safe='')}/feed?{urlencode(query)}")
            return [
                Seen(
                    id=str(item.get("id")),
                    text=str(item.get("message") or ""),
                    at=platform_time(item.get("created_time")),
                    follows="",
                )
                for item in items
            ]

        ids = await post_pieces(self.record, outbound, [text], post, look, keyed=False)
        return Delivery(key=outbound.key, id=ids[0], text=text)

    async def _page(self, api: Api) -> dict[str, str]:
        """The Page's id and its Instagram account's (``GET /me``), asked once."""
        if self._accounts is None:
            body = await api.call("GET", "/me?fields=id,instagram_business_account", None)
            account = body.get("instagram_business_account")
            self._accounts = {
                "facebook": str(body.get("id") or ""),
                "messenger": str(body.get("id") or ""),
                "instagram": str(account.get("id") or "") if isinstance(account, dict) else "",
            }
        return self._accounts

    async def _look_comments(
        self, api: Api, channel: str, edge: str, follows: str, since: datetime
    ) -> list[Seen]:
        """The Page's replies to the comment ``follows``."""
        me = (await self._page(api)).get(channel, "")
        text_field, time_field = (
            ("text", "timestamp")
            if edge == "replies"
            else (
                "message",
                "created_time",
            )
        )
        query = {"fields": f"id,{text_field},from,{time_field}", "limit": "100"}
        if edge == "comments":
            query["order"] = "reverse_chronological"
        items = await _pages(api, f"/{quote(follows, safe='')}/{edge}?{urlencode(query)}")
        return [
            Seen(
                id=str(item.get("id")),
                text=str(item.get(text_field) or ""),
                at=platform_time(item.get(time_field)),
            )
            for item in items
            if _author(item) == me
        ]

    async def _look_messages(
        self, api: Api, channel: str, thread: str, follows: str, since: datetime
    ) -> list[Seen]:
        """The Page's messages in its conversation with ``thread`` (a page-scoped id)."""
        me = (await self._page(api)).get(channel, "")
        query = {
            "platform": "instagram" if channel == "instagram" else "messenger",
            "user_id": thread,
            "fields": "messages.limit(100){id,message,from,created_time}",
        }
        conversations = await _pages(api, f"/me/conversations?{urlencode(query)}")
        seen: list[Seen] = []
        for conversation in conversations:
            messages = conversation.get("messages")
            data = messages.get("data") if isinstance(messages, dict) else None
            for item in data or []:
                if isinstance(item, dict) and _author(item) == me:
                    seen.append(
                        Seen(
                            id=str(item.get("id")),
                            text=str(item.get("message") or ""),
                            at=platform_time(item.get("created_time")),
                        )
                    )
        return seen


def _author(item: dict[str, object]) -> str | None:
    author = item.get("from")
    return str(author.get("id")) if isinstance(author, dict) and author.get("id") else None


async def _pages(api: Api, path: str) -> list[dict[str, object]]:
    """Up to ``LOOK_PAGES`` pages of a Graph list (``paging.cursors.after``)."""
    found: list[dict[str, object]] = []
    after: str | None = None
    for _ in range(LOOK_PAGES):
        body = await api.call("GET", path + (f"&after={quote(after)}" if after else ""), None)
        found.extend(item for item in body.get("data") or [] if isinstance(item, dict))
        paging = body.get("paging")
        cursors = paging.get("cursors") if isinstance(paging, dict) else None
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not after or not (isinstance(paging, dict) and paging.get("next")):
            break
    return found
