"""X Activity API (XAA) deliveries → inquiries, on the same door as Account Activity
(``POST /webhooks/x``; ``webhook`` tells the two shapes apart).

X's docs mark the Account Activity API as being replaced by the X Activity API. What X documents
(``xdevplatform/docs``: ``x-api/activity/introduction.mdx``, ``event-payloads.mdx``,
``x-api/webhooks/introduction.mdx``, ``quickstart.mdx``; the payloads are in
tests/channels/x_payloads/activity/, their sources in tests/channels/x_payloads/SOURCES.md):

- Delivery: a webhook registered with ``POST /2/webhooks`` and named by each subscription
  (``POST /2/activity/subscriptions`` with ``webhook_id``). X's V2 webhooks use the same
  challenge as Account Activity (``GET ?crc_token=`` answered with ``response_token:
  sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>``) and sign each POST the same way
  (``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>``),
  so the door's CRC and signature check serve both shapes unchanged.
- The body: one event, ``{"data": {"event_uuid", "filter": {"user_id"}, "event_type", "tag",
  "payload", "includes": {"users": [<User v2>], "tweets": [<Post v2>]}}}``.
- Post events (``post.mention.create``, ``post.reply.create``, ``post.quote.create``,
  ``post.repost.create``, and ``post.create`` for the filtered user's own posts): ``payload``
  is an API v2 Post: ``id``, ``text``, ``author_id``, ``created_at`` (RFC 3339),
  ``conversation_id``, ``in_reply_to_tweet_id``, ``referenced_tweets: [{"type": "replied_to" |
  "quoted" | "retweeted", "id"}]``. The author's handle and name come from ``includes.users``.
- Legacy DM events (``dm.received``, ``dm.sent``): ``payload`` holds Account Activity's
  ``direct_message_events`` and a ``users`` map of ``{"<id>": {"data": <User v2>}}``.
- Everything else (likes, follows, profile updates, encrypted XChat, deletions, Spaces,
  ``oauth.revoke``…) is ignored, each with its reason.

What the docs leave open, and what careflow does about it:

- Whether a webhook POST can hold more than one event: every documented body holds one. A body
  whose ``data`` is not one event object is a problem in a 200, never a refusal.
- ``includes`` is "optional… when available": the ``post.reply.create`` and
  ``post.quote.create`` samples carry none. Without the author's user object the handle is the
  author's id (as for an Account Activity DM without ``users``) and the name stays unknown
  (templates then say the rule file's ``flow.unknown_name``); without the quoted post, a quote's
  text ends with a link to it instead of its text. ``includes.users`` entries come both bare
  and wrapped in ``{"data": …}`` in the samples; both are read.
- Long posts: X API v2 gives a post over 280 characters in ``note_tweet.text`` (``text`` is
  then cut); careflow reads it when present, though no XAA sample shows one.

Each event is read on its own (``common.isolated``'s rule): a signed XAA body is always a 200,
and an event careflow cannot read is a ``Problem`` listed in the answer. Retweets are never
inquiries; the brand's own posts and DMs are echoes, recorded on their customer's inquiry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from careflow.channels import x
from careflow.channels.common import (
    Echo,
    Ignored,
    Normalized,
    PayloadError,
    Problem,
    brand_ids,
    echo_if,
    id_at,
    inquiry_at,
    kind_of,
    list_at,
    object_at,
    optional_id_at,
    text_at,
)
from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts

# Post events whose payload is a post careflow takes in (an inquiry, or an echo of the brand's).
POSTS = ("post.mention.create", "post.reply.create", "post.quote.create", "post.create")
REPOST = "post.repost.create"
DIRECT_MESSAGES = ("dm.received", "dm.sent")
RETWEET = "retweet: a share, not an inquiry"
REASONS = {
    "post.delete": "post.delete: deletions are not applied (the inquiry keeps the text)",
    "dm.read": "dm.read: a read receipt, not an inquiry",
    "dm.indicate_typing": "dm.indicate_typing: typing, not an inquiry",
    "chat.received": (
        "chat.received: an encrypted XChat message careflow cannot read (subscribe to "
        "dm.received for legacy DMs)"
    ),
    "chat.sent": "chat.sent: an encrypted XChat message careflow cannot read",
    "oauth.revoke": "oauth.revoke: the account withdrew the app's access (not an inquiry)",
}
Taken = Inquiry | Echo | Ignored


def is_activity(data: Any) -> bool:
    """Whether a body has the X Activity API's shape (``{"data": …}``) rather than Account
    Activity's (``for_user_id`` and ``*_events`` lists)."""
    return (
        isinstance(data, dict)
        and "data" in data
        and "for_user_id" not in data
        and not any(key.endswith(("_events", "_event")) for key in data)
    )


def webhook(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """The X door: an X Activity API event, or an Account Activity delivery."""
    if is_activity(data):
        return activity(data, brand_accounts)
    if not isinstance(data, dict):
        raise PayloadError(
            400,
            "not an X webhook payload: expected an object, either X Activity API "
            '({"data": {"event_type", "payload"}}) or Account Activity (for_user_id and '
            "*_events)",
        )
    return x.account_activity(data, brand_accounts)


def activity(data: dict[str, Any], brand_accounts: BrandAccounts) -> Normalized:
    """One X Activity API event: taken, ignored with its reason, or a problem (never a 4xx)."""
    found = Normalized()
    event = data.get("data")
    if not isinstance(event, dict):
        found.problems.append(Problem(None, "data", f"expected an object, got {kind_of(event)}"))
        return found
    uuid = event.get("event_uuid")
    event_id = str(uuid) if isinstance(uuid, str | int) and not isinstance(uuid, bool) else None
    kind = event.get("event_type")
    if not isinstance(kind, str) or not kind:
        message = "missing" if kind is None else f"expected a string, got {kind_of(kind)}"
        found.problems.append(Problem(event_id, "data.event_type", message))
        return found
    filtered = event.get("filter")
    user = filtered.get("user_id") if isinstance(filtered, dict) else None
    brand = brand_ids([user if isinstance(user, str) else None, brand_accounts.x_user_id])
    includes = event.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    users = _by_id(includes.get("users"))
    if kind in POSTS or kind == REPOST:
        tweets = _by_id(includes.get("tweets"))
        read = _reader(kind, event.get("payload"), users, tweets, brand)
        _take(found, "data.payload", read, event_id)
    elif kind in DIRECT_MESSAGES:
        _direct_messages(found, event.get("payload"), event_id, brand)
    else:
        found.ignored.append(Ignored(event_id, _why_not(kind, event.get("payload"), brand)))
    return found


def _take(
    found: Normalized,
    where: str,
    read: Callable[[], tuple[Taken, str | None]],
    event_id: str | None,
) -> None:
    """One post or DM into ``found`` with the post it replies to, or a problem in its place."""
    try:
        item, parent = read()
    except PayloadError as error:
        found.problems.append(Problem(event_id, where, error.message))
        return
    found.add(item)
    if parent is not None and not isinstance(item, Ignored):
        found.in_reply_to[(item if isinstance(item, Inquiry) else item.post).id] = parent


def _reader(
    kind: str,
    payload: Any,
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    brand: set[str],
) -> Callable[[], tuple[Taken, str | None]]:
    return lambda: _post(kind, object_at(payload, "data.payload"), users, tweets, brand)


def _by_id(value: Any) -> dict[str, dict[str, Any]]:
    """``includes.users`` / ``includes.tweets`` by id; entries bare or wrapped in ``data``,
    anything unreadable left out (an expansion that is missing only leaves a name unknown)."""
    found: dict[str, dict[str, Any]] = {}
    for item in value if isinstance(value, list) else []:
        item = _unwrapped(item)
        if item and isinstance(item.get("id"), str):
            found[item["id"]] = item
    return found


def _unwrapped(item: Any) -> dict[str, Any]:
    """A v2 user or post object, whether bare or under ``data`` (both appear in X's samples)."""
    if isinstance(item, dict) and isinstance(item.get("data"), dict) and "id" not in item:
        item = item["data"]
    return item if isinstance(item, dict) else {}


def _references(post: dict[str, Any], where: str) -> dict[str, str]:
    """``referenced_tweets`` as type → id (``replied_to``, ``quoted``, ``retweeted``)."""
    value = post.get("referenced_tweets")
    if value is None:
        return {}
    found: dict[str, str] = {}
    for number, reference in enumerate(list_at(value, f"{where}.referenced_tweets")):
        at = f"{where}.referenced_tweets[{number}]"
        reference = object_at(reference, at)
        found.setdefault(text_at(reference, "type", at), id_at(reference, "id", at))
    return found


def _post(
    kind: str,
    post: dict[str, Any],
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    brand: set[str],
) -> tuple[Taken, str | None]:
    """A v2 post: an inquiry, the brand's echo, or an ignored repost; and what it replies to."""
    where = "data.payload"
    post_id = id_at(post, "id", where)
    references = _references(post, where)
    if kind == REPOST or "retweeted" in references:
        return Ignored(post_id, RETWEET), None
    author_id = id_at(post, "author_id", where)
    user = users.get(author_id, {})
    username = user.get("username")
    handle = username if isinstance(username, str) and username else None
    text = _text(post, where)
    if "quoted" in references:
        text = f"{text}\n\n{_quoted(references['quoted'], tweets, users)}"
    parent = references.get("replied_to") or optional_id_at(post, "in_reply_to_tweet_id", where)
    conversation = optional_id_at(post, "conversation_id", where) or parent or post_id
    item = inquiry_at(
        where,
        id=post_id,
        channel="x",
        kind="public",
        conversation_id=conversation,
        author=_author(author_id, handle, user),
        text=text,
        created_at=_time(post, where),
        url=f"https://x.com/{handle or 'i/web'}/status/{post_id}",
    )
    return echo_if(item, author_id in brand), parent


def _text(post: dict[str, Any], where: str) -> str:
    """The whole text (``note_tweet.text`` for a long post, else ``text``), entities unescaped."""
    note = post.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return x.unescaped(note["text"])
    return x.unescaped(text_at(post, "text", where))


def _quoted(
    quoted_id: str, tweets: dict[str, dict[str, Any]], users: dict[str, dict[str, Any]]
) -> str:
    """The quoted post as the marked block Account Activity quotes get; when ``includes`` does
    not hold it (X's ``post.quote.create`` sample has none), a link to it."""
    quoted = tweets.get(quoted_id)
    text = quoted.get("text") if quoted else None
    if quoted is None or not isinstance(text, str):
        return f"[quoting https://x.com/i/web/status/{quoted_id}]"
    note = quoted.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        text = note["text"]
    author = users.get(str(quoted.get("author_id")), {})
    handle = author.get("username")
    return x.quote_block(x.unescaped(text), handle if isinstance(handle, str) else None)


def _time(post: dict[str, Any], where: str) -> datetime:
    created = text_at(post, "created_at", where)
    try:
        at = datetime.fromisoformat(created)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise PayloadError(
            422, f"{where}.created_at: {created!r} is not an RFC 3339 time (2026-07-24T21:23:23Z)"
        )
    return at


def _author(author_id: str, handle: str | None, user: dict[str, Any]) -> dict[str, Any]:
    """The author from a v2 user object; without one the handle is the id, the rest unknown."""
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    name = user.get("name")
    return {
        "id": author_id,
        "handle": handle or author_id,
        "name": name if isinstance(name, str) and name else None,
        "followers": followers if isinstance(followers, int) and followers >= 0 else None,
        "verified": user.get("verified") is True,
    }


def _direct_messages(
    found: Normalized, payload: Any, event_id: str | None, brand: set[str]
) -> None:
    """``dm.received`` / ``dm.sent``: each of ``direct_message_events`` on its own."""
    where = "data.payload"
    if not isinstance(payload, dict):
        found.problems.append(
            Problem(event_id, where, f"expected an object, got {kind_of(payload)}")
        )
        return
    events = payload.get("direct_message_events")
    if not isinstance(events, list):
        found.problems.append(
            Problem(
                event_id,
                f"{where}.direct_message_events",
                f"expected an array, got {kind_of(events)}",
            )
        )
        return
    users_map = payload.get("users")
    users = {
        key: _unwrapped(value)
        for key, value in (users_map.items() if isinstance(users_map, dict) else [])
    }
    for number, message in enumerate(events):
        at = f"{where}.direct_message_events[{number}]"
        own = message.get("id") if isinstance(message, dict) else None
        message_id = own if isinstance(own, str) and own else event_id
        _take(found, at, partial(_unreplied, message, at, users, brand), message_id)


def _unreplied(
    event: Any, where: str, users: dict[str, dict[str, Any]], brand: set[str]
) -> tuple[Taken, str | None]:
    """A DM answers no tweet; it reads as Account Activity's, with v2 user objects."""
    return x.direct_message(event, where, partial(_v2_author, users), brand), None


def _v2_author(users: dict[str, dict[str, Any]], sender: str) -> dict[str, Any]:
    user = users.get(sender, {})
    username = user.get("username")
    return _author(sender, username if isinstance(username, str) else None, user)


def _why_not(kind: str, payload: Any, brand: set[str]) -> str:
    """Why an event of another type starts nothing; the brand's own likes and follows say so."""
    if kind in REASONS:
        return REASONS[kind]
    payload = payload if isinstance(payload, dict) else {}
    if kind == "like.create" and isinstance(payload.get("liked_tweet_author_id"), str):
        if payload["liked_tweet_author_id"] in brand:
            return "like.create: a like of the brand's post (not an inquiry)"
        return "like.create: the brand's own like (not an inquiry)"
    if kind in ("follow.follow", "follow.unfollow"):
        source = _unwrapped(payload.get("source"))
        if source.get("id") in brand:
            return f"{kind}: the brand's own {kind.split('.')[1]} (not an inquiry)"
    return f"{kind}: not an inquiry"
