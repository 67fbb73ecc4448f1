"""The ``platform`` channel adapter: posts to X and Meta over HTTP, notifications to webhooks.

Where each message goes:

| channel | public | private |
| --- | --- | --- |
| ``x`` | ``POST /2/tweets`` replying to ``in_reply_to`` | a DM: ``POST /2/dm_conversations/with/{user id}/messages``: in a private conversation the conversation id is the user id, otherwise the post author's id (``recipient_id``), or else it is looked up from the handle with ``GET /2/users/by/username/{handle}`` |
| ``facebook`` | ``POST /{comment}/comments`` on ``in_reply_to`` | on a public comment: Meta's Private Replies, ``POST /me/messages`` to ``recipient.comment_id = in_reply_to``; in a private conversation ``recipient.id = conversation_id`` |
| ``instagram`` | ``POST /{comment}/replies`` on ``in_reply_to`` | as ``facebook`` |
| ``messenger`` | (none: a Messenger conversation is private) | ``POST /me/messages`` to ``recipient.id = conversation_id`` (the customer's PSID) |

A private conversation has no public side: whatever its ``private`` flag says, a message in one
goes privately, and the ``Delivery`` says so (``private=True``).

Long texts:

- A public X reply over 280 characters (counted roughly as X does, see ``x_length``) follows
  ``outbound.long_replies``: ``split`` posts a thread of numbered parts (``… (1/3)``), cut at word
  boundaries, each replying to the part before; ``private`` sends the whole text as a DM and posts
  a short public reply pointing to it (``Delivery.private = True``).
- A direct message over the platform's limit (Messenger 2000 characters, X DMs 10000) is sent as
  several numbered messages the same way. ``Delivery.parts`` counts the pieces of the text.
- A Meta comment over 8000 characters, and a Private Reply over 2000 (it is one message), are
  refused: ``DeliveryRejected``.

Meta's Private Replies allow one message per comment, within 7 days of it. The adapter remembers
which comments it has privately replied to, and refuses (``DeliveryRejected``) a second private
message on the same public comment before asking Meta: from there on only the customer can open
the conversation, by messaging the Page. Their message continues the comment's inquiry, and its
later private messages go to their Messenger thread (``recipient.id = recipient_id``, once
``customer_in_private``). Meta's own refusal (Graph error 10900) says the same. Messenger and
Instagram messages follow Meta's 24-hour window (``messaging_window``). The 7-day limit is Meta's to enforce: its
refusal is final too.

Notifications (``kind == "notification"``) go to their target's webhook: ``target_webhook`` as
written in the rule file, an http(s) URL or ``${ENV_VAR}`` read from the worker's environment
when the message is sent; a notification without one, escalations, and chat hand-offs without a
chat service go to ``CAREFLOW_NOTIFY_WEBHOOK_URL``. Each is Slack-compatible JSON ``{"text": …}``,
signed ``X-Careflow-Signature: sha256=<hex HMAC-SHA256 of the body>`` with
``CAREFLOW_NOTIFY_WEBHOOK_SECRET`` when one is set. Webhook URLs are secrets: no error message
names one (it names the variable or the target), and httpx's request log, which prints URLs, is
kept at WARNING.

A chat hand-off (``kind == "chat_handoff"``) with ``CAREFLOW_CHAT_URL`` set opens a live-chat
session instead: a JSON POST (key, channel, conversation, customer, agent, reason, transcript)
with an ``Idempotency-Key`` header, signed with ``CAREFLOW_CHAT_SECRET`` when set; the answer's
``{"id", "url"}`` become ``Delivery.id`` and ``Delivery.link``, which the workflow sends to the
customer.

Failures: a 429 is retried after its ``Retry-After`` (or X's ``x-rate-limit-reset``); 5xx,
timeouts and connection errors are retried with the workflow's backoff; any other 4xx (bad
credentials, a refused text) is final — ``DeliveryRejected`` — and the workflow escalates to a
human. A missing token or webhook URL is final too, naming the setting.

Idempotency: neither platform takes an idempotency key, so the adapter keeps its own record of
delivered keys in ``$CAREFLOW_HOME/deliveries.sqlite3`` (key, platform id, when, a chat session's
link; never the text), checked before posting and written after the platform's 2xx. A delivery
that takes several posts records each under ``<key>#<n>`` (and a pointer under
``<key>#pointer``) as it goes, so a retry after part 2 of 3 posts only part 3. What is left: a
worker that dies, or an answer that is lost (a timeout, a dropped connection), between the
platform accepting a post and the record being written, leads the retry to post it again. That
window is one HTTP answer wide; closing it needs a platform-side key or reading the conversation
back before posting. The chat service takes the key (``Idempotency-Key``), so a hand-off has no
such window.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import sqlite3
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.types import Delivery, Outbound
from careflow.settings import PlatformSettings, TelemetrySettings
from careflow.telemetry import trace_http

X_TEXT_LIMIT = 280
X_URL_LENGTH = 23  # X counts every URL as a t.co link
X_DM_LIMIT = 10_000
MESSENGER_TEXT_LIMIT = 2000  # Send API: per message, Messenger and Instagram
META_COMMENT_LIMIT = 8000
META_CHANNELS = ("facebook", "instagram", "messenger")
WEBHOOK_KINDS = frozenset({"notification", "escalation", "chat_handoff"})
# Graph error codes Meta answers a Private Reply with when the comment had its one already.
ALREADY_REPLIED_CODES = frozenset({10900})
# Below the workflow's 10 s start-to-close timeout, so a slow platform is our timeout, not its.
HTTP_TIMEOUT = httpx.Timeout(8.0, connect=3.0)
SIGNATURE_HEADER = "X-Careflow-Signature"
MAX_RATE_LIMIT_WAIT = timedelta(minutes=15)  # X's rate-limit window
# Meta's messaging policy: any message within 24 h of the customer's latest, a person's for 7 days.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HTTP_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# A bare domain X would link (acme.com/returns): counted as at least a URL, to be safe.
BARE_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/\S*)?", re.IGNORECASE)
URL_TRAILERS = ".,;:!?)]}'\""

# Posts one piece: (text, the key it is recorded under, the id it follows) → the platform's id.
Poster = Callable[[str, str, str], Awaitable[str]]


def rejected(message: str) -> ApplicationError:
    """A final failure: retrying cannot help; the workflow escalates to a human."""
    return ApplicationError(message, type="DeliveryRejected", non_retryable=True)


def unavailable(message: str, delay: timedelta | None = None) -> ApplicationError:
    """A passing failure: the activity is retried (after ``delay`` when the platform says)."""
    kind = "PlatformRateLimited" if delay is not None else "PlatformUnavailable"
    return ApplicationError(message, type=kind, next_retry_delay=delay)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Careflow-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after(headers: Mapping[str, str], now: float | None = None) -> timedelta:
    """How long a 429 asks us to wait: ``Retry-After`` (seconds or a date), else X's
    ``x-rate-limit-reset`` (epoch seconds), else a second; never more than 15 minutes."""
    now = time.time() if now is None else now
    wait = 1.0
    value = headers.get("retry-after")
    reset = headers.get("x-rate-limit-reset")
    try:
        if value is not None:
            wait = (
                float(value)
                if value.strip().isdigit()
                else (parsedate_to_datetime(value).timestamp() - now)
            )
        elif reset is not None:
            wait = float(reset) - now
    except (TypeError, ValueError):
        wait = 1.0
    return min(timedelta(seconds=max(wait, 1.0)), MAX_RATE_LIMIT_WAIT)


def _x_weight(text: str) -> int:
    """X's weights: code points up to Ethiopic and some punctuation count 1, the rest 2."""
    total = 0
    for char in text:
        point = ord(char)
        light = (
            point <= 4351 or 8192 <= point <= 8205 or 8208 <= point <= 8223 or 8242 <= point <= 8247
        )
        total += 1 if light else 2
    return total


def x_length(text: str) -> int:
    """A text's length as X counts it, near enough and never less.

    After NFC normalisation, each ``http(s)://`` URL counts 23 (a t.co link; trailing
    punctuation counts on its own), a bare domain X would link counts at least 23, CJK and emoji
    count 2 and the rest 1. Simplifications, all erring long: an emoji sequence (ZWJ, skin tone,
    variation selector) counts 2 per code point where X counts 2 in all, and anything shaped like
    a domain (``sorted.Thanks``) counts as one.
    """
    total = 0
    for token in re.split(r"(\s+)", unicodedata.normalize("NFC", text)):
        if HTTP_URL.fullmatch(token):
            url = token.rstrip(URL_TRAILERS)
            total += X_URL_LENGTH + _x_weight(token[len(url) :])
        elif BARE_DOMAIN.search(token):
            total += max(X_URL_LENGTH, _x_weight(token))
        else:
            total += _x_weight(token)
    return total


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """``text`` in numbered parts (``… (1/3)``) of at most ``limit`` by ``length``.

    Parts end at whitespace, which is dropped there and kept inside a part (line breaks stay);
    a word longer than a part on its own is cut. A text within the limit is one part, unnumbered.
    """
    if length(text) <= limit:
        return [text]
    tokens = re.findall(r"\s+|\S+", text.strip())
    digits = 1
    while True:
        room = len(f" ({'9' * digits}/{'9' * digits})")
        pieces = _pack(tokens, limit - room, length)
        if len(str(len(pieces))) <= digits:
            count = len(pieces)
            return [f"{piece} ({n}/{count})" for n, piece in enumerate(pieces, 1)]
        digits += 1


def _pack(tokens: list[str], budget: int, length: Callable[[str], int]) -> list[str]:
    """Greedy: as many words as fit in each piece."""
    pieces: list[str] = []
    current = gap = ""
    for token in tokens:
        if token.isspace():
            gap = token if current else ""
            continue
        candidate = current + gap + token if current else token
        if length(candidate) <= budget:
            current, gap = candidate, ""
            continue
        if current:
            pieces.append(current)
        current = gap = ""
        while length(token) > budget:  # one word longer than a piece: cut it
            cut = max([n for n in range(1, len(token)) if length(token[:n]) <= budget], default=1)
            pieces.append(token[:cut])
            token = token[cut:]
        current = token
    if current:
        pieces.append(current)
    return pieces


def _platform_message(response: httpx.Response) -> str:
    """The platform's own words for an error (X's problem detail, Graph's error.message)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        for field in ("detail", "title"):
            if body.get(field):
                return str(body[field])[:200]
    return response.text[:200]


def _graph_code(response: httpx.Response) -> int | None:
    """A Graph error's ``error.code``."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def _posted_id(body: dict[str, Any], key: str, channel: str, *path: str) -> str:
    """The platform's id for what it accepted; a 2xx without one is still a post (failing now
    would post it again), so it gets an id made from the key."""
    value: Any = body
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if value:
        return str(value)
    return f"{channel}-" + hashlib.sha256(key.encode()).hexdigest()[:16]


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


def _is_private(outbound: Outbound) -> bool:
    """Where a message goes: privately when asked, and always in a private conversation."""
    return (
        outbound.private
        or outbound.conversation_kind == "private"
        or (outbound.channel == "messenger")
    )


def _moved(outbound: Outbound) -> bool | None:
    """``Delivery.private`` for a message sent privately though asked to go public."""
    return True if _is_private(outbound) and not outbound.private else None


class DeliveryRecord:
    """Delivered idempotency keys in a SQLite file: ``key`` is the primary key.

    SQLite serialises writers across worker processes sharing ``$CAREFLOW_HOME``; only the key,
    the platform id, the channel, the time and a chat session's link are kept — no customer text.
    A delivery in several posts keeps each under ``<key>#<n>`` (``<key>#pointer`` for the public
    pointer to a DM); ``private-reply/<channel>/<comment>`` marks a comment's one Private Reply.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS deliveries ("
                " key TEXT PRIMARY KEY, id TEXT NOT NULL, channel TEXT NOT NULL,"
                " kind TEXT NOT NULL, at TEXT NOT NULL, link TEXT)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
            if "link" not in columns:  # a record from before chat links
                db.execute("ALTER TABLE deliveries ADD COLUMN link TEXT")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def find(self, key: str) -> str | None:
        """The platform id the key was delivered as, if it was."""
        found = self.entry(key)
        return None if found is None else found[0]

    def entry(self, key: str) -> tuple[str, str | None] | None:
        """The platform id and link the key was delivered with, if it was."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, link FROM deliveries WHERE key = ?", (key,)).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def parts(self, key: str) -> dict[str, str]:
        """The posts recorded under ``<key>#…``: suffix → platform id."""
        prefix = f"{key}#"
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT key, id FROM deliveries WHERE substr(key, 1, ?) = ?",
                (len(prefix), prefix),
            ).fetchall()
        return {str(row[0])[len(prefix) :]: str(row[1]) for row in rows}

    def add(self, key: str, id: str, channel: str, kind: str, link: str | None = None) -> None:
        """Remember a delivery (a key already there keeps its first id)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO deliveries (key, id, channel, kind, at, link)"
                " VALUES (?,?,?,?,?,?)",
                (key, id, channel, kind, datetime.now(UTC).isoformat(), link),
            )


class PlatformAdapter:
    """Posts to the real platforms (or the fake one), at most once per key as far as it knows."""

    name = "platform"

    def __init__(
        self,
        settings: PlatformSettings,
        deliveries: Path,
        telemetry: TelemetrySettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = HTTP_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry or TelemetrySettings()
        self.timeout = timeout
        self.record = DeliveryRecord(deliveries)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._x_ids: dict[str, str] = {}
        # httpx logs every request's URL at INFO; webhook and chat URLs are secrets.
        quiet = logging.getLogger("httpx")
        if quiet.getEffectiveLevel() < logging.WARNING:
            quiet.setLevel(logging.WARNING)

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (tests run several loops in one process)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            client = httpx.AsyncClient(
                timeout=self.timeout, transport=self._transport, follow_redirects=False
            )
            self._client = trace_http(
                client, self.settings, self.telemetry
            )  # a span per call when traces are on
            self._loop = loop
            self._locks = {}
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        client = self._http()
        lock = self._locks.setdefault(outbound.key, asyncio.Lock())
        try:
            async with lock:  # two attempts of one key in this worker: the second sees the first
                known = self.record.entry(outbound.key)
                if known is not None:
                    return self._with_every_post(self._again(outbound, text, *known))
                delivery = await self._post(client, outbound, text)
                self.record.add(
                    outbound.key, delivery.id, outbound.channel, outbound.kind, delivery.link
                )
                return self._with_every_post(delivery)
        finally:
            if not lock.locked():
                self._locks.pop(outbound.key, None)

    def _with_every_post(self, delivery: Delivery) -> Delivery:
        """The delivery with the ids of its other posts (thread parts, the public pointer), so
        the workflow can tell its own posts from the brand's native replies when the platform
        echoes them back."""
        others = [id for id in self.record.parts(delivery.key).values() if id != delivery.id]
        return delivery.model_copy(update={"also": others}) if others else delivery

    def _again(self, outbound: Outbound, text: str, id: str, link: str | None) -> Delivery:
        """What a key already delivered was, rebuilt from the record: nothing is posted."""
        parts = self.record.parts(outbound.key)
        pointed = "pointer" in parts
        return Delivery(
            key=outbound.key,
            id=id,
            text=text,
            duplicate=True,
            private=True if pointed else _moved(outbound),
            parts=max(1, sum(1 for suffix in parts if suffix.isdigit())),
            link=link,
        )

    async def _post(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        if outbound.kind in WEBHOOK_KINDS:
            if outbound.kind == "chat_handoff" and self.settings.chat_url:
                return await self._chat(client, outbound, text, self.settings.chat_url)
            return await self._webhook(client, outbound, text)
        if outbound.channel == "x":
            return await self._x(client, outbound, text)
        if outbound.channel in META_CHANNELS:
            return await self._meta(client, outbound, text)
        raise rejected(
            f"the platform adapter cannot post to channel {outbound.channel!r}: "
            "it knows x, facebook, instagram and messenger"
        )

    async def _pieces(
        self, outbound: Outbound, pieces: list[str], post: Poster, keyed: bool, first: str = ""
    ) -> list[str]:
        """Posts ``pieces`` in order, each following the one before (the first follows
        ``first``). ``keyed``: each is recorded under ``<key>#<n>`` as soon as it is posted and
        skipped when already there, so a retry goes on where the last attempt stopped."""
        ids: list[str] = []
        previous = first
        for n, piece in enumerate(pieces, 1):
            key = f"{outbound.key}#{n}" if keyed else outbound.key
            posted = self.record.find(key) if keyed else None
            if posted is None:
                posted = await post(piece, key, previous)
                if keyed:
                    self.record.add(key, posted, outbound.channel, outbound.kind)
            ids.append(posted)
            previous = posted
        return ids

    async def _once(
        self, outbound: Outbound, suffix: str, post: Callable[[], Awaitable[str]]
    ) -> str:
        """One extra post of a delivery, recorded under ``<key>#<suffix>``."""
        key = f"{outbound.key}#{suffix}"
        posted = self.record.find(key)
        if posted is None:
            posted = await post()
            self.record.add(key, posted, outbound.channel, outbound.kind)
        return posted

    # ------------------------------------------------------------------ X

    async def _x(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        token = self.settings.x_bearer_token
        if not token:
            raise rejected("no X token: set CAREFLOW_X_BEARER_TOKEN")
        base = self.settings.x_api_base.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"}
        tweet = functools.partial(self._tweet, client, base, headers, outbound.channel)
        if _is_private(outbound):
            ids = await self._x_dm(client, base, headers, outbound, text, keyed=False)
            return Delivery(
                key=outbound.key, id=ids[0], text=text, parts=len(ids), private=_moved(outbound)
            )
        if x_length(text) <= X_TEXT_LIMIT:
            posted = await tweet(text, outbound.key, outbound.in_reply_to)
            return Delivery(key=outbound.key, id=posted, text=text)
        if outbound.long_replies == "private":
            ids = await self._x_dm(client, base, headers, outbound, text, keyed=True)
            pointer = f"@{outbound.recipient.lstrip('@')} we've sent you a DM with the details."
            await self._once(
                outbound,
                "pointer",
                functools.partial(tweet, pointer, f"{outbound.key}#pointer", outbound.in_reply_to),
            )
            return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids), private=True)
        pieces = split_text(text, X_TEXT_LIMIT, x_length)
        ids = await self._pieces(outbound, pieces, tweet, keyed=True, first=outbound.in_reply_to)
        return Delivery(key=outbound.key, id=ids[0], text=text, parts=len(ids))

    async def _tweet(
        self,
        client: httpx.AsyncClient,
        base: str,
        headers: dict[str, str],
        channel: str,
        text: str,
        key: str,
        in_reply_to: str,
    ) -> str:
        payload = {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}}
        body = await self._call(client, "X", "POST", f"{base}/2/tweets", headers, payload)
        return _posted_id(body, key, channel, "data", "id")

    async def _x_dm(
        self,
        client: httpx.AsyncClient,
        base: str,
        headers: dict[str, str],
        outbound: Outbound,
        text: str,
        keyed: bool,
    ) -> list[str]:
        if outbound.conversation_kind == "private":
            participant = outbound.conversation_id  # a DM conversation is keyed by the sender
        elif outbound.recipient_id:
            participant = outbound.recipient_id  # the post's author: the same X user id
        else:
            participant = await self._x_user_id(client, base, headers, outbound.recipient)
        url = f"{base}/2/dm_conversations/with/{participant}/messages"

        async def post(piece: str, key: str, previous: str) -> str:
            body = await self._call(client, "X", "POST", url, headers, {"text": piece})
            return _posted_id(body, key, outbound.channel, "data", "dm_event_id")

        pieces = split_text(text, X_DM_LIMIT)
        return await self._pieces(outbound, pieces, post, keyed=keyed or len(pieces) > 1)

    async def _x_user_id(
        self, client: httpx.AsyncClient, base: str, headers: dict[str, str], handle: str
    ) -> str:
        handle = handle.lstrip("@")
        if handle not in self._x_ids:
            url = f"{base}/2/users/by/username/{handle}"
            body = await self._call(client, "X", "GET", url, headers, None)
            data = body.get("data")
            if not isinstance(data, dict) or not data.get("id"):
                raise rejected(f"X knows no user @{handle}: cannot send a DM")
            self._x_ids[handle] = str(data["id"])
        return self._x_ids[handle]

    # ------------------------------------------------------------------ Meta

    async def _meta(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        token = self.settings.meta_page_token
        if not token:
            raise rejected("no Meta Page token: set CAREFLOW_META_PAGE_TOKEN")
        base = self.settings.meta_graph_base.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"}
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
            url = f"{base}/me/messages"

            window = messaging_window(outbound, datetime.now(UTC))

            async def post(piece: str, key: str, previous: str) -> str:
                payload = {"recipient": {"id": thread}, **window, "message": {"text": piece}}
                body = await self._call(client, "Meta", "POST", url, headers, payload)
                return _posted_id(body, key, outbound.channel, "message_id")

            pieces = split_text(text, MESSENGER_TEXT_LIMIT)
            ids = await self._pieces(outbound, pieces, post, keyed=len(pieces) > 1)
            return Delivery(
                key=outbound.key, id=ids[0], text=text, parts=len(ids), private=_moved(outbound)
            )
        if outbound.private:
            posted = await self._private_reply(client, base, headers, outbound, text)
            return Delivery(key=outbound.key, id=posted, text=text)
        if len(text) > META_COMMENT_LIMIT:
            raise rejected(
                f"the reply is {len(text)} characters; a {outbound.channel} comment holds "
                f"{META_COMMENT_LIMIT}: shorten it"
            )
        edge = "replies" if outbound.channel == "instagram" else "comments"
        url = f"{base}/{outbound.in_reply_to}/{edge}"
        body = await self._call(client, "Meta", "POST", url, headers, {"message": text})
        return Delivery(
            key=outbound.key,
            id=_posted_id(body, outbound.key, outbound.channel, "id"),
            text=text,
        )

    async def _private_reply(
        self,
        client: httpx.AsyncClient,
        base: str,
        headers: dict[str, str],
        outbound: Outbound,
        text: str,
    ) -> str:
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
        body = await self._call(
            client,
            "Meta",
            "POST",
            f"{base}/me/messages",
            headers,
            payload,
            final={code: refusal for code in ALREADY_REPLIED_CODES},
        )
        posted = _posted_id(body, outbound.key, outbound.channel, "message_id")
        self.record.add(marker, posted, outbound.channel, outbound.kind)
        return posted

    # ------------------------------------------------------------------ webhooks

    def _webhook_url(self, outbound: Outbound) -> tuple[str, str]:
        """Where a notification, escalation or chat hand-off goes, and how errors name it."""
        written = outbound.target_webhook
        if outbound.kind == "notification" and written:
            target = outbound.target or "?"
            where = f"the webhook of target {target!r}"
            reference = ENV_REFERENCE.fullmatch(written.strip())
            if reference is not None:
                variable = reference.group(1)
                url = os.environ.get(variable, "").strip()
                if not url:
                    raise rejected(
                        f"notification target {target!r}: its webhook variable {variable} is "
                        "not set in the worker's environment"
                    )
                if not HTTP_URL.fullmatch(url):
                    raise rejected(
                        f"notification target {target!r}: {variable} does not hold an http(s) URL"
                    )
                return url, where
            if not HTTP_URL.fullmatch(written.strip()):
                raise rejected(
                    f"notification target {target!r}: its webhook is neither an http(s) URL "
                    "nor ${ENV_VAR}"
                )
            return written.strip(), where
        if not self.settings.notify_webhook_url:
            raise rejected(
                f"no notification webhook for this {outbound.kind}: set CAREFLOW_NOTIFY_WEBHOOK_URL"
            )
        return self.settings.notify_webhook_url, "the notification webhook"

    async def _webhook(self, client: httpx.AsyncClient, outbound: Outbound, text: str) -> Delivery:
        url, where = self._webhook_url(outbound)
        summary = text or f"careflow {outbound.kind}: {outbound.channel} {outbound.conversation_id}"
        raw = json.dumps({"text": summary}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Careflow-Key": outbound.key}
        if self.settings.notify_webhook_secret:
            headers[SIGNATURE_HEADER] = sign(self.settings.notify_webhook_secret, raw)
        await self._call(client, where, "POST", url, headers, raw)
        posted = "webhook-" + hashlib.sha256(outbound.key.encode()).hexdigest()[:16]
        return Delivery(key=outbound.key, id=posted, text=text)

    async def _chat(
        self, client: httpx.AsyncClient, outbound: Outbound, text: str, url: str
    ) -> Delivery:
        """Opens a live-chat session; the service dedupes by ``Idempotency-Key``."""
        raw = json.dumps(
            {
                "key": outbound.key,
                "channel": outbound.channel,
                "conversation_id": outbound.conversation_id,
                "customer": outbound.recipient,
                "agent": outbound.agent,
                "reason": text,
                "transcript": outbound.transcript,
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": outbound.key,
            "X-Careflow-Key": outbound.key,
        }
        if self.settings.chat_secret:
            headers[SIGNATURE_HEADER] = sign(self.settings.chat_secret, raw)
        body = await self._call(client, "the chat service", "POST", url, headers, raw)
        session, link = body.get("id"), body.get("url")
        if not session or not isinstance(link, str) or not HTTP_URL.fullmatch(link):
            raise rejected("the chat service answered without a session id and an http(s) url")
        return Delivery(key=outbound.key, id=str(session), text=text, link=link)

    async def _call(
        self,
        client: httpx.AsyncClient,
        platform: str,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: dict[str, Any] | bytes | None,
        final: Mapping[int, str] | None = None,
    ) -> dict[str, Any]:
        """One request; every failure becomes a retryable or a final ApplicationError.

        Messages name the platform and the status, never the URL (a webhook URL is a secret)
        nor the headers (tokens). ``final`` gives clearer words for some Graph error codes."""
        try:
            if isinstance(payload, bytes):
                response = await client.request(method, url, headers=headers, content=payload)
            else:
                response = await client.request(method, url, headers=headers, json=payload)
        except httpx.TimeoutException:
            raise unavailable(f"{platform} did not answer in time") from None
        except httpx.TransportError as error:
            raise unavailable(f"{platform} is unreachable: {type(error).__name__}") from None
        status = response.status_code
        if status == 429:
            wait = retry_after(response.headers)
            raise unavailable(f"{platform} rate limit (429): retry in {wait}", delay=wait)
        if status >= 500 or status == 408:
            raise unavailable(f"{platform} answered {status}: {_platform_message(response)}")
        if status >= 300:
            code = _graph_code(response)
            if final and code is not None and code in final:
                raise rejected(f"{final[code]} ({platform} answered {status}, code {code})")
            raise rejected(f"{platform} refused the post ({status}): {_platform_message(response)}")
        if not response.content or not response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return {}
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
