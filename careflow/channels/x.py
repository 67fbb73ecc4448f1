"""X Account Activity API deliveries (``POST /webhooks/x``) → inquiries: mentions and replies
are public, direct messages private; the brand's own tweets and DMs are echoes.

The shape (only the fields read here matter): ``{"for_user_id", "tweet_create_events":
[<Tweet v1.1>], "direct_message_events": [{"type": "message_create", "id", "created_timestamp",
"message_create": {"sender_id", "target": {"recipient_id"}, "message_data": {"text"}}}],
"users": {"<id>": <User v1.1>}}``; other ``*_events`` keys (likes, follows…) are ignored, each
with its reason. Retweets are never inquiries (a share is not a question), whatever the rules say.
Each event is read on its own: one careflow cannot read is a ``Problem`` at its place, and the
events beside it are taken (a refusal of the whole delivery would be retried by X, refusing the
good events with it every time).

Account Activity tweets carry no ``conversation_id``: a reply names only the tweet it answers
(``in_reply_to_status_id_str``). The normalizer reports that tweet in ``Normalized.in_reply_to``
and ``careflow.temporal.intake`` finds the customer's own inquiry from it (see ``workflow_id``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from careflow.channels.common import (
    ECHO,
    Echo,
    Ignored,
    Normalized,
    PayloadError,
    Problem,
    brand_ids,
    echo_if,
    epoch_at,
    events_at,
    id_at,
    inquiry_at,
    isolated,
    kind_of,
    object_at,
    optional_id_at,
    text_at,
)
from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts

X_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 10 20:19:24 +0000 2018"
READ = ("tweet_create_events", "direct_message_events")  # the event lists that hold inquiries


def account_activity(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """Mentions and replies (public), direct messages (private), the rest ignored."""
    if not isinstance(data, dict) or not (
        "for_user_id" in data or any(key.endswith(("_events", "_event")) for key in data)
    ):
        raise PayloadError(
            400,
            "not an X Account Activity payload: expected an object with for_user_id and "
            "tweet_create_events, direct_message_events or other *_events",
        )
    found = Normalized()
    try:
        subscribed = optional_id_at(data, "for_user_id", "for_user_id")
    except PayloadError as error:  # whose delivery it is decides what an echo is
        found.problems.append(Problem(None, "for_user_id", error.message))
        return found
    brand = brand_ids([subscribed, brand_accounts.x_user_id])
    for number, tweet in enumerate(
        events_at(found, data, "tweet_create_events", "tweet_create_events")
    ):
        where = f"tweet_create_events[{number}]"
        isolated(found, where, partial(_reply, tweet, where, brand, found), _own_id(tweet))
    users = data.get("users", {})
    if not isinstance(users, dict):
        found.problems.append(Problem(None, "users", f"expected an object, got {kind_of(users)}"))
        users = {}
    for number, event in enumerate(
        events_at(found, data, "direct_message_events", "direct_message_events")
    ):
        where = f"direct_message_events[{number}]"
        isolated(
            found,
            where,
            partial(_message, event, where, users, brand),
            _own_id(event),
        )
    for key, value in data.items():
        if key.endswith(("_events", "_event")) and key not in READ:
            items = value if isinstance(value, list) else [value]
            for item in items:
                item_id = item.get("id") if isinstance(item, dict) else None
                found.ignored.append(
                    Ignored(
                        item_id if isinstance(item_id, str) else None, _why_not(key, item, brand)
                    )
                )
    return found


def _own_id(event: Any) -> str | None:
    """An event's own id (``id_str``, else ``id``), when readable: a problem names it."""
    if not isinstance(event, dict):
        return None
    value = event.get("id_str") or event.get("id")
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _message(
    event: Any, where: str, users: dict[str, Any], brand: set[str]
) -> Inquiry | Echo | Ignored:
    return direct_message(event, where, partial(_v1_author, users), brand)


def _v1_author(users: dict[str, Any], sender: str) -> dict[str, Any]:
    """A DM's sender from Account Activity's ``users`` map (v1.1 user objects)."""
    user = users.get(sender)
    user = user if isinstance(user, dict) else {}
    handle = user.get("screen_name")
    return _author(sender, handle if isinstance(handle, str) and handle else sender, user)


def _reply(tweet: Any, where: str, brand: set[str], found: Normalized) -> Inquiry | Echo | Ignored:
    """One tweet, and the tweet it answers recorded for the intake's keying."""
    tweet = object_at(tweet, where)
    item = _tweet(tweet, where, brand)
    parent = optional_id_at(tweet, "in_reply_to_status_id_str", where)
    if parent is not None and not isinstance(item, Ignored):
        found.in_reply_to[(item if isinstance(item, Inquiry) else item.post).id] = parent
    return item


def _why_not(key: str, item: Any, brand: set[str]) -> str:
    """Why an event of another list is no inquiry; the brand's own likes and follows say so."""
    if isinstance(item, dict):
        if key == "favorite_events":
            user = item.get("user")
            if isinstance(user, dict) and str(user.get("id_str") or user.get("id")) in brand:
                return "favorite_events: the brand's own like (not an inquiry)"
        if key == "follow_events":
            source = item.get("source")
            if isinstance(source, dict) and str(source.get("id")) in brand:
                return f"follow_events: the brand's own {item.get('type') or 'follow'} (not an inquiry)"
    return f"{key}: not inquiries"


def unescaped(text: str) -> str:
    """Tweet text as written: X escapes ``&``, ``<`` and ``>`` in it (and only those), so
    ``&amp;lt;`` is a customer's literal ``&lt;`` and comes back as such (``&amp;`` last)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _full_text(tweet: dict[str, Any], where: str) -> str:
    """The whole text: ``extended_tweet.full_text`` (a tweet over 140 characters), else
    ``full_text`` (extended mode), else ``text``; entities unescaped."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return unescaped(extended["full_text"])
    if isinstance(tweet.get("full_text"), str):
        return unescaped(tweet["full_text"])
    return unescaped(text_at(tweet, "text", where))


def _quoted(tweet: dict[str, Any]) -> str | None:
    """The quoted tweet as a marked block to append to a quote tweet's text, or None.

    It goes into the text, not a field of its own: "same here" or "this!" means nothing alone,
    and the rules, the queue, templates and agents all read the text."""
    quoted = tweet.get("quoted_status")
    if not isinstance(quoted, dict):
        return None
    try:
        text = _full_text(quoted, "quoted_status")
    except PayloadError:
        return None  # a quote whose original X withheld (deleted, protected) keeps its own text
    user = quoted.get("user")
    handle = user.get("screen_name") if isinstance(user, dict) else None
    return quote_block(text, handle if isinstance(handle, str) else None)


def quote_block(text: str, handle: str | None) -> str:
    """A quoted tweet as the block a quote tweet's text ends with (both of X's webhook shapes):
    ``[quoting @handle]`` and the quoted text as ``> `` lines."""
    who = f"@{handle}" if handle else "a tweet"
    lines = "\n".join(f"> {line}" for line in text.splitlines() or [""])
    return f"[quoting {who}]\n{lines}"


def _tweet(tweet: dict[str, Any], where: str, brand: set[str]) -> Inquiry | Echo | Ignored:
    tweet_id = id_at(tweet, "id_str", where)
    if isinstance(tweet.get("retweeted_status"), dict):
        # A retweet shares someone's tweet (the brand's own retweets too): never an inquiry.
        return Ignored(tweet_id, "retweet: a share, not an inquiry")
    user = object_at(tweet.get("user"), f"{where}.user")
    author_id = id_at(user, "id_str", f"{where}.user")
    handle = text_at(user, "screen_name", f"{where}.user")
    text = _full_text(tweet, where)
    quoted = _quoted(tweet)
    if quoted is not None:
        text = f"{text}\n\n{quoted}"
    created = text_at(tweet, "created_at", where)
    try:
        created_at = datetime.strptime(created, X_TIME_FORMAT)
    except ValueError:
        raise PayloadError(
            422,
            f"{where}.created_at: {created!r} is not X's time format (Wed Oct 10 "
            "20:19:24 +0000 2018)",
        ) from None
    # The conversation's root when X gives it (v2 conversation_id), else what it replies to:
    # the platform's thread, shared by every customer in it (intake keys the inquiry per customer).
    conversation = (
        optional_id_at(tweet, "conversation_id_str", where)
        or optional_id_at(tweet, "conversation_id", where)
        or optional_id_at(tweet, "in_reply_to_status_id_str", where)
        or tweet_id
    )
    post = inquiry_at(
        where,
        id=tweet_id,
        channel="x",
        kind="public",
        conversation_id=conversation,
        author=_author(author_id, handle, user),
        text=text,
        created_at=created_at,
        url=f"https://x.com/{handle}/status/{tweet_id}",
    )
    return echo_if(post, author_id in brand)


def direct_message(
    event: Any, where: str, author: Callable[[str], dict[str, Any]], brand: set[str]
) -> Inquiry | Echo | Ignored:
    """An Account Activity ``message_create`` (also inside the X Activity API's DM events):
    private, keyed by the customer; the brand's own DM is an echo in the customer's
    conversation. ``author`` builds the sender from the delivery's user objects."""
    event = object_at(event, where)
    event_id = id_at(event, "id", where)
    if event.get("type") != "message_create":
        return Ignored(event_id, f"direct message event of type {event.get('type')!r}")
    create = object_at(event.get("message_create"), f"{where}.message_create")
    sender = id_at(create, "sender_id", f"{where}.message_create")
    echo = sender in brand
    if echo:  # the brand's DM: the conversation is the customer it went to
        target = create.get("target")
        recipient = target.get("recipient_id") if isinstance(target, dict) else None
        if not isinstance(recipient, str) or not recipient:
            return Ignored(event_id, ECHO)
    data = object_at(create.get("message_data"), f"{where}.message_create.message_data")
    text = text_at(data, "text", f"{where}.message_create.message_data")
    created_at = epoch_at(event.get("created_timestamp"), f"{where}.created_timestamp")
    post = inquiry_at(
        where,
        id=event_id,
        channel="x",
        kind="private",
        conversation_id=recipient if echo else sender,
        author=author(sender),
        text=text,  # X documents no escaping in DM text
        created_at=created_at,
    )
    return echo_if(post, echo)


def _author(author_id: str, handle: str, user: dict[str, Any]) -> dict[str, Any]:
    """The author of a tweet or DM from its v1.1 user object (what is missing stays unknown)."""
    followers = user.get("followers_count")
    return {
        "id": author_id,
        "handle": handle,
        "name": user.get("name") if isinstance(user.get("name"), str) else None,
        "followers": followers if isinstance(followers, int) and followers >= 0 else None,
        "verified": user.get("verified") is True,
    }
