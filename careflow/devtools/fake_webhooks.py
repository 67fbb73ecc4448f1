"""The fake platform's other half: customers' posts sent to careflow's intake as signed webhooks.

A platform event is built in the shape X's Account Activity API and Meta's webhooks deliver
(``tweet_create_events`` / ``direct_message_events``, or X Activity API events with
``x_activity_post`` / ``x_activity_direct_message``; ``object: page`` feed changes and
``messaging``; ``object: instagram`` comments and ``messaging``), signed the way each platform
signs (X: base64 HMAC-SHA256 in ``x-twitter-webhooks-signature``; Meta: hex in
``X-Hub-Signature-256``) and posted to the intake. ``careflow fake-platform --intake URL``, the
demo of ``careflow up --fake-platform`` and the end-to-end tests all send through here, so what
reaches the intake is what the platforms would send, not a normalized shortcut.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from careflow.engine.messenger_feedback import QUESTION_ID
from careflow.engine.post import Inquiry

log = logging.getLogger("careflow.devtools.fake_platform")
X_SIGNATURE = "x-twitter-webhooks-signature"
META_SIGNATURE = "X-Hub-Signature-256"
X_TIME_FORMAT = "%a %b %d %H:%M:%S +0000 %Y"
# The fake's own accounts, unless the intake is told others (CAREFLOW_BRAND_*).
BRAND_X_USER_ID = "1000"
BRAND_PAGE_ID = "2000"
BRAND_INSTAGRAM_ID = "3000"

EventKind = Literal["mention", "dm", "comment", "message"]


@dataclass(frozen=True)
class Customer:
    """Who posts: a platform user id, a handle and a follower count."""

    id: str
    handle: str
    name: str | None = None
    followers: int = 0
    verified: bool = False


@dataclass(frozen=True)
class PlatformEvent:
    """One customer post as a platform delivers it: where it goes and its JSON body."""

    platform: Literal["x", "meta"]
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/webhooks/{self.platform}"


@dataclass(frozen=True)
class Secrets:
    """The secrets the intake checks: X's consumer secret, Meta's app secret."""

    x_consumer_secret: str | None
    meta_app_secret: str | None


NO_SECRETS = Secrets(None, None)


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def x_mention(
    post_id: str,
    customer: Customer,
    text: str,
    at: datetime,
    in_reply_to: str | None = None,
    brand_id: str = BRAND_X_USER_ID,
    in_reply_to_user: Customer | None = None,
) -> PlatformEvent:
    """A tweet that mentions or replies to the brand (``tweet_create_events``), as Account
    Activity sends it: a reply names the tweet it answers (and its author, when known), never
    the thread's root (there is no ``conversation_id`` in these payloads)."""
    tweet: dict[str, Any] = {
        "created_at": at.astimezone(UTC).strftime(X_TIME_FORMAT),
        "id": int(post_id) if post_id.isdigit() else post_id,
        "id_str": post_id,
        "text": text,
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": {
            "id": int(customer.id) if customer.id.isdigit() else customer.id,
            "id_str": customer.id,
            "name": customer.name or customer.handle,
            "screen_name": customer.handle,
            "followers_count": customer.followers,
            "verified": customer.verified,
        },
        "is_quote_status": False,
    }
    if in_reply_to and in_reply_to != post_id:
        tweet["in_reply_to_status_id"] = int(in_reply_to) if in_reply_to.isdigit() else None
        tweet["in_reply_to_status_id_str"] = in_reply_to
        if in_reply_to_user is not None:
            tweet["in_reply_to_user_id_str"] = in_reply_to_user.id
            tweet["in_reply_to_screen_name"] = in_reply_to_user.handle
    return PlatformEvent("x", {"for_user_id": brand_id, "tweet_create_events": [tweet]})


def _x_dm_event(event_id: str, sender: str, recipient: str, text: str, at: datetime) -> Any:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(_millis(at)),
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "message_data": {"text": text},
        },
    }


def x_brand_direct_message(
    event_id: str, recipient_id: str, text: str, at: datetime, brand_id: str = BRAND_X_USER_ID
) -> PlatformEvent:
    """The brand's own DM to a customer, as Account Activity echoes it to the brand."""
    event = _x_dm_event(event_id, brand_id, recipient_id, text, at)
    return PlatformEvent("x", {"for_user_id": brand_id, "direct_message_events": [event]})


def x_direct_message(
    event_id: str, customer: Customer, text: str, at: datetime, brand_id: str = BRAND_X_USER_ID
) -> PlatformEvent:
    """A DM to the brand (``direct_message_events``, with the sender in ``users``)."""
    users = {
        customer.id: {
            "id": customer.id,
            "screen_name": customer.handle,
            "name": customer.name or customer.handle,
            "followers_count": customer.followers,
            "verified": customer.verified,
        }
    }
    body = {
        "for_user_id": brand_id,
        "direct_message_events": [_x_dm_event(event_id, customer.id, brand_id, text, at)],
        "users": users,
    }
    return PlatformEvent("x", body)


# ---------------------------------------------------------------------- X Activity API
# The same events as X's newer X Activity API delivers them to a webhook (one event a body:
# ``{"data": {"event_uuid", "filter", "event_type", "payload", "includes"}}``, posts in API v2
# shape with ``conversation_id``; tests/channels/x_payloads/SOURCES.md). Signed like Account
# Activity, so ``signed`` and ``send`` serve both.

XAA_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"


def _v2_user(customer: Customer) -> dict[str, Any]:
    """A customer as an API v2 user object (the fields careflow reads, as X names them)."""
    return {
        "id": customer.id,
        "username": customer.handle,
        "name": customer.name or customer.handle,
        "verified": customer.verified,
        "public_metrics": {"followers_count": customer.followers},
    }


def _x_activity(
    event_type: str, event_uuid: str, payload: Any, includes: Any, brand_id: str
) -> PlatformEvent:
    event = {
        "event_uuid": event_uuid,
        "filter": {"user_id": brand_id},
        "event_type": event_type,
        "payload": payload,
        "includes": includes,
    }
    return PlatformEvent("x", {"data": event})


def x_activity_post(
    event_type: str,
    post_id: str,
    author: Customer,
    text: str,
    at: datetime,
    *,
    conversation_id: str | None = None,
    in_reply_to: str | None = None,
    quoted: str | None = None,
    brand_id: str = BRAND_X_USER_ID,
    with_author: bool = True,
) -> PlatformEvent:
    """A post event (``post.mention.create``, ``post.reply.create``, ``post.quote.create``,
    ``post.create`` for the brand's own): the post in API v2 shape, its thread's root in
    ``conversation_id`` (the post itself unless given), what it answers or quotes in
    ``referenced_tweets``, and its author in ``includes.users`` (``with_author=False``: none,
    as X's own reply and quote samples show)."""
    payload: dict[str, Any] = {
        "id": post_id,
        "text": text,
        "author_id": author.id,
        "created_at": at.astimezone(UTC).strftime(XAA_TIME_FORMAT),
        "conversation_id": conversation_id or post_id,
        "edit_history_tweet_ids": [post_id],
    }
    references = []
    if in_reply_to:
        payload["in_reply_to_tweet_id"] = in_reply_to
        references.append({"type": "replied_to", "id": in_reply_to})
    if quoted:
        references.append({"type": "quoted", "id": quoted})
    if references:
        payload["referenced_tweets"] = references
    includes = {"users": [_v2_user(author)]} if with_author else {}
    return _x_activity(event_type, post_id, payload, includes, brand_id)


def x_activity_direct_message(
    event_id: str,
    sender: Customer,
    recipient_id: str,
    text: str,
    at: datetime,
    brand_id: str = BRAND_X_USER_ID,
) -> PlatformEvent:
    """A legacy DM as the X Activity API delivers it: ``dm.received`` when the brand is the
    recipient, ``dm.sent`` when the brand sent it; Account Activity's ``direct_message_events``
    with a ``users`` map of ``{"<id>": {"data": <v2 user>}}``."""
    event_type = "dm.sent" if sender.id == brand_id else "dm.received"
    payload = {
        "direct_message_events": [_x_dm_event(event_id, sender.id, recipient_id, text, at)],
        "users": {sender.id: {"data": _v2_user(sender)}},
    }
    return _x_activity(event_type, event_id, payload, {}, brand_id)


def _messaging(
    message_id: str, sender: str, recipient: str, account: str, text: str, at: datetime, **more: Any
) -> list[dict[str, Any]]:
    """One ``entry`` holding one ``messaging`` event (Messenger and Instagram alike)."""
    event = {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": _millis(at),
        "message": {"mid": message_id, "text": text, **more},
    }
    return [{"id": account, "time": _millis(at), "messaging": [event]}]


def meta_message_event(
    message_id: str,
    customer: Customer,
    text: str | None,
    at: datetime,
    account_id: str = BRAND_PAGE_ID,
    *,
    unsent: bool = False,
    unsupported: bool = False,
    attachments: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """One customer ``messaging`` (or ``standby``) event as Meta sends it: a text, an unsent
    message (``is_deleted``, no text), one Meta could not deliver (``is_unsupported``), or
    media (``attachments``: ``(type, url)`` pairs, ``text`` None for media alone)."""
    message: dict[str, Any] = {"mid": message_id}
    if unsent:
        message["is_deleted"] = True
    elif unsupported:
        message["is_unsupported"] = True
    else:
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = [
                {"type": kind, "payload": {"url": url}} for kind, url in attachments
            ]
    return {
        "sender": {"id": customer.id},
        "recipient": {"id": account_id},
        "timestamp": _millis(at),
        "message": message,
    }


def meta_edit_event(
    message_id: str, customer: Customer, text: str, at: datetime, account_id: str = BRAND_PAGE_ID
) -> dict[str, Any]:
    """A customer's edit of a message they sent (``message_edit``, as Messenger sends it)."""
    return {
        "sender": {"id": customer.id},
        "recipient": {"id": account_id},
        "timestamp": _millis(at),
        "message_edit": {"mid": message_id, "text": text, "num_edit": 1},
    }


def meta_feedback_event(
    customer: Customer,
    score: int,
    comment: str | None,
    at: datetime,
    question_id: str = QUESTION_ID,
    account_id: str = BRAND_PAGE_ID,
) -> dict[str, Any]:
    """A customer's answer to Messenger's customer-feedback template (``messaging_feedback``):
    a CSAT score ``"1"`` to ``"5"`` and, when they wrote one, the free-form comment. Shape from
    Meta's customer-feedback template reference (careflow.engine.messenger_feedback)."""
    answer: dict[str, Any] = {"type": "csat", "payload": str(score)}
    if comment:
        answer["follow_up"] = {"type": "free_form", "payload": comment}
    return {
        "sender": {"id": customer.id},
        "recipient": {"id": account_id},
        "timestamp": _millis(at),
        "messaging_feedback": {
            "feedback_screens": [{"screen_id": 0, "questions": {question_id: answer}}]
        },
    }


def meta_batch(
    events: list[dict[str, Any]],
    at: datetime,
    instagram: bool = False,
    standby: bool = False,
    account_id: str | None = None,
) -> PlatformEvent:
    """Several messaging events in one delivery, as Meta batches them (under ``standby`` when
    another app, such as Page Inbox, owns the threads)."""
    account = account_id or (BRAND_INSTAGRAM_ID if instagram else BRAND_PAGE_ID)
    entry = {"id": account, "time": _millis(at), "standby" if standby else "messaging": events}
    return PlatformEvent("meta", {"object": "instagram" if instagram else "page", "entry": [entry]})


def messenger_echo(
    message_id: str, recipient_id: str, text: str, at: datetime, page_id: str = BRAND_PAGE_ID
) -> PlatformEvent:
    """The Page's own Messenger message, as Meta echoes it (``is_echo``)."""
    entry = _messaging(message_id, page_id, recipient_id, page_id, text, at, is_echo=True)
    return PlatformEvent("meta", {"object": "page", "entry": entry})


def facebook_comment(
    comment_id: str,
    customer: Customer,
    text: str,
    at: datetime,
    parent_id: str | None = None,
    page_id: str = BRAND_PAGE_ID,
) -> PlatformEvent:
    """A comment on the Page's feed (``object: page``, ``field: feed``)."""
    post_id = f"{page_id}_1"
    value = {
        "from": {"id": customer.id, "name": customer.name or customer.handle},
        "item": "comment",
        "verb": "add",
        "post_id": post_id,
        "comment_id": comment_id,
        "parent_id": parent_id or post_id,
        "message": text,
        "created_time": int(at.timestamp()),
    }
    entry = {"id": page_id, "time": _millis(at), "changes": [{"field": "feed", "value": value}]}
    return PlatformEvent("meta", {"object": "page", "entry": [entry]})


def meta_message(
    message_id: str,
    customer: Customer,
    text: str,
    at: datetime,
    instagram: bool = False,
    account_id: str | None = None,
) -> PlatformEvent:
    """A Messenger (or Instagram) message to the Page (``messaging``)."""
    account = account_id or (BRAND_INSTAGRAM_ID if instagram else BRAND_PAGE_ID)
    entry = _messaging(message_id, customer.id, account, account, text, at)
    return PlatformEvent("meta", {"object": "instagram" if instagram else "page", "entry": entry})


def instagram_comment(
    comment_id: str,
    customer: Customer,
    text: str,
    at: datetime,
    parent_id: str | None = None,
    account_id: str = BRAND_INSTAGRAM_ID,
) -> PlatformEvent:
    """A comment on one of the account's media (``object: instagram``, ``field: comments``)."""
    value: dict[str, Any] = {
        "id": comment_id,
        "from": {"id": customer.id, "username": customer.handle},
        "text": text,
        "media": {"id": f"{account_id}_media", "media_product_type": "FEED"},
    }
    if parent_id:
        value["parent_id"] = parent_id
    entry = {"id": account_id, "time": int(at.timestamp()), "changes": []}
    entry["changes"] = [{"field": "comments", "value": value}]
    return PlatformEvent("meta", {"object": "instagram", "entry": [entry]})


def event_for(inquiry: Inquiry, private: bool | None = None) -> PlatformEvent:
    """A normalized inquiry (an example file) as its platform would deliver it."""
    author = inquiry.author
    customer = Customer(
        id=author.id,
        handle=author.handle,
        name=author.name,
        followers=author.followers or 0,
        verified=bool(author.verified),
    )
    is_private = inquiry.kind == "private" if private is None else private
    at, text, post = inquiry.created_at, inquiry.text, inquiry.id
    if inquiry.channel == "x":
        if is_private:
            return x_direct_message(post, customer, text, at)
        return x_mention(post, customer, text, at, inquiry.conversation_id)
    if inquiry.channel in ("facebook", "messenger"):
        if is_private or inquiry.channel == "messenger":
            return meta_message(post, customer, text, at)
        parent = inquiry.conversation_id if inquiry.conversation_id != post else None
        return facebook_comment(post, customer, text, at, parent)
    if inquiry.channel == "instagram":
        if is_private:
            return meta_message(post, customer, text, at, instagram=True)
        parent = inquiry.conversation_id if inquiry.conversation_id != post else None
        return instagram_comment(post, customer, text, at, parent)
    raise ValueError(
        f"the fake platform speaks x, facebook, messenger and instagram, not {inquiry.channel!r}"
    )


def signed(event: PlatformEvent, secrets: Secrets) -> tuple[bytes, dict[str, str]]:
    """The raw body and the signature header the platform would send."""
    raw = json.dumps(event.body, ensure_ascii=False).encode()
    secret = secrets.x_consumer_secret if event.platform == "x" else secrets.meta_app_secret
    if not secret:
        variable = (
            "CAREFLOW_X_CONSUMER_SECRET" if event.platform == "x" else "CAREFLOW_META_APP_SECRET"
        )
        raise ValueError(
            f"{variable} is not set: the fake platform cannot sign {event.platform} webhooks"
        )
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    if event.platform == "x":
        return raw, {X_SIGNATURE: "sha256=" + base64.b64encode(digest).decode()}
    return raw, {META_SIGNATURE: "sha256=" + digest.hex()}


async def send(
    http: httpx.AsyncClient, intake_url: str, event: PlatformEvent, secrets: Secrets
) -> httpx.Response:
    """Deliver one event to the intake (``intake_url`` is its base, e.g. http://127.0.0.1:8000)."""
    raw, headers = signed(event, secrets)
    headers["Content-Type"] = "application/json"
    return await http.post(intake_url.rstrip("/") + event.path, content=raw, headers=headers)


SHAPES = ("post", "edit", "unsent", "standby", "batch", "feedback")
META_MESSAGE_CHANNELS = ("messenger", "instagram")


def _meta_customer(data: dict[str, Any]) -> Customer:
    author = data.get("author")
    if not isinstance(author, dict) or not author.get("id"):
        raise ValueError("author {id, handle} is needed")
    return Customer(str(author["id"]), str(author.get("handle") or author["id"]))


def _meta_message_event(
    data: Any, post_id: str, now: datetime
) -> tuple[dict[str, Any], bool, bool]:
    """One event of a Meta message shape (``post`` with optional ``attachments``, ``edit``,
    ``unsent``, ``standby``): the messaging event, whether it is Instagram's, and whether it
    goes under ``standby``."""
    if not isinstance(data, dict):
        raise ValueError("each event is a JSON object")
    shape = data.get("shape", "post")
    channel = data.get("channel")
    if channel not in META_MESSAGE_CHANNELS:
        raise ValueError(f"shape {shape!r} is a Meta message: channel messenger or instagram")
    instagram = channel == "instagram"
    account = BRAND_INSTAGRAM_ID if instagram else BRAND_PAGE_ID
    customer = _meta_customer(data)
    if shape == "feedback":
        if instagram:
            raise ValueError("shape 'feedback' is Messenger's customer-feedback template")
        score = data.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ValueError("shape 'feedback' needs score: 1 to 5 (the CSAT answer)")
        said = data.get("comment")
        comment = said if isinstance(said, str) and said else None
        return meta_feedback_event(customer, score, comment, now, account_id=account), False, False
    if shape in ("edit", "unsent"):
        target = data.get("message_id")
        if not isinstance(target, str) or not target:
            raise ValueError(f"shape {shape!r} needs message_id: the message it changes")
        if shape == "edit":
            text = str(data.get("text", ""))
            return meta_edit_event(target, customer, text, now, account), instagram, False
        event = meta_message_event(target, customer, None, now, account, unsent=True)
        return event, instagram, False
    if shape not in ("post", "standby"):
        raise ValueError(
            f"shape {shape!r} inside a batch: expected post, edit, unsent, standby or feedback"
        )
    attachments = [
        (str(item.get("type", "image")), str(item.get("url", "")))
        for item in data.get("attachments") or []
        if isinstance(item, dict)
    ]
    said = data.get("text")
    message = meta_message_event(
        str(data.get("id") or post_id),
        customer,
        said if isinstance(said, str) and (said or not attachments) else None,
        now,
        account,
        attachments=attachments or None,
    )
    return message, instagram, shape == "standby"


def fake_delivery(data: Any, post_id: str, now: datetime) -> tuple[PlatformEvent, Inquiry | None]:
    """``POST /_fake/webhooks``'s body as the platform's delivery. ``shape`` (default
    ``post``): a customer post (``customer_post``; a Messenger or Instagram one may carry
    ``attachments: [{type, url}]``), ``edit`` / ``unsent`` of an earlier message
    (``message_id``; an edit's new ``text``), ``standby`` (a message while another app owns the
    thread), ``feedback`` (a Messenger customer's answer to the customer-feedback template:
    ``score`` 1 to 5, ``comment``), or ``batch`` (``events``: several of those in one Meta delivery). The inquiry is
    returned for a plain post (the fake remembers its author)."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object with channel, author {id, handle} and text")
    shape = data.get("shape", "post")
    if shape not in SHAPES:
        raise ValueError(f"shape {shape!r}: expected one of {', '.join(SHAPES)}")
    if shape == "post" and not data.get("attachments"):
        post = customer_post({k: v for k, v in data.items() if k != "shape"}, post_id, now)
        return event_for(post), post
    items = data.get("events") if shape == "batch" else [data]
    if not isinstance(items, list) or not items:
        raise ValueError("a batch needs events: a list of posts, edits, unsent and standby")
    messaging: list[dict[str, Any]] = []
    standby: list[dict[str, Any]] = []
    kinds: set[bool] = set()
    for number, item in enumerate(items):
        event, instagram, on_standby = _meta_message_event(item, f"{post_id}{number}", now)
        kinds.add(instagram)
        (standby if on_standby else messaging).append(event)
    if len(kinds) > 1:
        raise ValueError("one Meta delivery holds Messenger or Instagram events, not both")
    instagram = kinds.pop()
    account = BRAND_INSTAGRAM_ID if instagram else BRAND_PAGE_ID
    entries = [
        {"id": account, "time": _millis(now), key: events}
        for key, events in (("messaging", messaging), ("standby", standby))
        if events
    ]
    body = {"object": "instagram" if instagram else "page", "entry": entries}
    return PlatformEvent("meta", body), None


def customer_post(data: Any, post_id: str, now: datetime) -> Inquiry:
    """``POST /_fake/webhooks``'s body as an inquiry: ``channel``, ``author`` and ``text`` are
    needed; ``kind`` (public), ``id`` (a new one), ``conversation_id`` (the id) and
    ``created_at`` (now) may be left out."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object with channel, author {id, handle} and text")
    post = {"kind": "public", "id": post_id, "created_at": now.isoformat(), **data}
    post.setdefault("conversation_id", post["id"])
    return Inquiry.model_validate(post)


@dataclass
class WebhookSender:
    """``POST /_fake/webhooks``: a customer posts on the fake platform, which delivers the event
    to careflow's intake, signed, and answers with what the intake said."""

    intake_url: str | None = None
    secrets: Secrets = NO_SECRETS
    first_id: int = 1_880_000_000_000_000_000
    sent: int = 0
    # What the fake knows of its customers: X handles → user ids, post ids → their authors.
    users: dict[str, str] = field(default_factory=dict)
    authors: dict[str, Customer] = field(default_factory=dict)
    echoing: set[asyncio.Task[None]] = field(default_factory=set)

    def next_id(self) -> str:
        self.sent += 1
        return str(self.first_id + self.sent)

    async def endpoint(self, request: Request) -> Response:
        if not self.intake_url:
            return JSONResponse(
                {"error": "no intake to deliver to: start the fake platform with --intake URL"},
                status_code=409,
            )
        try:
            data = json.loads(await request.body())
            event, post = fake_delivery(data, self.next_id(), datetime.now(UTC))
            raw, headers = signed(event, self.secrets)
            if post is not None:
                self.users[post.author.handle.lower()] = post.author.id
                self.authors[post.id] = Customer(post.author.id, post.author.handle)
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                for problem in error.errors()
            ]
            return JSONResponse({"error": "not a post", "problems": problems}, status_code=422)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        path = event.path
        headers["Content-Type"] = "application/json"
        async with httpx.AsyncClient(timeout=30) as http:
            try:
                answer = await http.post(
                    self.intake_url.rstrip("/") + path, content=raw, headers=headers
                )
            except httpx.HTTPError as error:
                return JSONResponse(
                    {"error": f"the intake did not answer: {type(error).__name__}"}, status_code=502
                )
        try:
            said: Any = answer.json()
        except ValueError:
            said = answer.text[:500]
        return JSONResponse(
            {
                "id": post.id if post is not None else _first_id(event),
                "delivered_to": path,
                "intake_status": answer.status_code,
                "intake": said,
            }
        )

    def echo_soon(self, post: dict[str, Any]) -> None:
        """Like the real platforms, tell the intake about the brand's own post (an echo), in
        the background: careflow must recognise its own posts among them."""
        if not self.intake_url:
            return
        event = self.echo_event(post)
        if event is None:
            return
        task = asyncio.get_running_loop().create_task(self._deliver_echo(event))
        self.echoing.add(task)
        task.add_done_callback(self.echoing.discard)

    def echo_event(self, post: dict[str, Any]) -> PlatformEvent | None:
        """The webhook event the platform sends the brand for one of its own posts."""
        at, text, kind = datetime.now(UTC), str(post.get("text") or ""), post.get("kind")
        if kind == "tweet":
            parent = str(post.get("in_reply_to") or post["id"])
            self.authors[post["id"]] = BRAND_ON_X
            return x_mention(
                post["id"], BRAND_ON_X, text, at, parent, in_reply_to_user=self.authors.get(parent)
            )
        if kind == "dm":
            return x_brand_direct_message(post["id"], str(post["recipient"]), text, at)
        if kind == "comment" and post.get("in_reply_to"):
            parent = str(post["in_reply_to"])
            if str(post.get("path", "")).endswith("/replies"):
                return instagram_comment(post["id"], BRAND_ON_INSTAGRAM, text, at, parent)
            return facebook_comment(post["id"], BRAND_ON_FACEBOOK, text, at, parent)
        if kind == "message" and post.get("template"):
            return None  # a template's echo carries no text: nothing careflow would read
        if kind == "message":
            return messenger_echo(f"m_{post['id']}", str(post["recipient"]), text, at)
        return None  # private replies, webhooks and chat sessions are not echoed

    async def _deliver_echo(self, event: PlatformEvent) -> None:
        assert self.intake_url is not None
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                await send(http, self.intake_url, event, self.secrets)
        except (httpx.HTTPError, ValueError) as error:
            log.warning("the echo of a brand post did not reach the intake: %s", error)


def _first_id(event: PlatformEvent) -> str | None:
    """The id of the first message a Meta delivery holds (what a test edits or unsends next)."""
    for entry in event.body.get("entry", []):
        for key in ("messaging", "standby"):
            for item in entry.get(key, []):
                part = item.get("message") or item.get("message_edit") or {}
                if part.get("mid"):
                    return str(part["mid"])
    return None


BRAND_ON_X = Customer(id=BRAND_X_USER_ID, handle="acme", name="Acme")
BRAND_ON_FACEBOOK = Customer(id=BRAND_PAGE_ID, handle="Acme")
BRAND_ON_INSTAGRAM = Customer(id=BRAND_INSTAGRAM_ID, handle="acme")
