"""Platform webhook payloads → normalized inquiries: pure functions, no I/O, no Temporal.

``careflow.http.app`` verifies a delivery's signature, then hands the parsed JSON here. Each
normalizer returns the inquiries the delivery holds and what it ignored (the brand's own posts,
likes, read receipts…), or raises ``PayloadError`` naming the first thing that is wrong, before
anything is started: a delivery is taken in whole or not at all.

The shapes (documented by the platforms; only the fields read here matter):

- X Account Activity API: ``{"for_user_id", "tweet_create_events": [<Tweet v1.1>],
  "direct_message_events": [{"type": "message_create", "id", "created_timestamp",
  "message_create": {"sender_id", "target": {"recipient_id"}, "message_data": {"text"}}}],
  "users": {"<id>": <User v1.1>}}``; other ``*_events`` keys (likes, follows…) are ignored.
- Meta, Facebook Page: ``{"object": "page", "entry": [{"id": <page>, "time", "changes":
  [{"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id", "post_id",
  "parent_id", "from": {"id", "name"}, "message", "created_time"}}], "messaging": [{"sender":
  {"id"}, "recipient": {"id"}, "timestamp", "message": {"mid", "text", "is_echo"}}]}]}``.
- Meta, Instagram: ``{"object": "instagram", "entry": [{"id": <account>, "time", "changes":
  [{"field": "comments", "value": {"id", "text", "from": {"id", "username"}, "media": {"id"},
  "parent_id"}}], "messaging": [<as Messenger>]}]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts

X_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 10 20:19:24 +0000 2018"
MILLISECONDS_FROM = 10**11  # epoch numbers above this are milliseconds (year 5138 in seconds)
ECHO = "echo: the brand's own post (not an inquiry)"


class PayloadError(ValueError):
    """A delivery careflow cannot take in: ``status`` 400 (not JSON, not a payload careflow
    knows) or 422 (the right kind of payload with a field missing or of the wrong type)."""

    def __init__(self, status: int, message: str, problems: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


@dataclass(frozen=True)
class Ignored:
    """An event of the delivery that starts nothing, and why."""

    id: str | None
    reason: str

    def as_json(self) -> dict[str, str | None]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class Echo:
    """The brand's own post or message, normalized like an inquiry whose ``conversation_id`` is
    the customer's conversation: a reply made natively on the platform (or careflow's own post
    coming back), which the conversation's inquiry records as an agent message."""

    post: Inquiry


@dataclass
class Normalized:
    """What one delivery holds: ``received`` events, as inquiries, echoes or ignored."""

    inquiries: list[Inquiry] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    echoes: list[Inquiry] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.inquiries) + len(self.ignored) + len(self.echoes)


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or a 400 that says why not."""
    try:
        data = json.loads(raw)
        # JSON may escape a lone surrogate ("\\ud800"): Python reads it, nothing can encode it.
        json.dumps(data, ensure_ascii=False).encode()
        return data
    except UnicodeEncodeError:
        raise PayloadError(400, "the body has a string with an unpaired surrogate escape") from None
    except UnicodeDecodeError:
        raise PayloadError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise PayloadError(
            400, f"the body is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise PayloadError(400, f"the body is not usable JSON: {error}") from None
    except RecursionError:
        raise PayloadError(400, "the body is JSON nested too deeply") from None


# ---------------------------------------------------------------------- reading fields


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(422, f"{where}: expected an object, got {_kind(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(422, f"{where}: expected an array, got {_kind(value)}")
    return value


def _id(obj: dict[str, Any], key: str, where: str) -> str:
    """A platform id: a non-empty string, or an integer (as Meta sends some)."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    if value is None:
        raise PayloadError(422, f"{where}.{key}: missing")
    raise PayloadError(422, f"{where}.{key}: expected an id (string), got {_kind(value)}")


def _optional_id(obj: dict[str, Any], key: str, where: str) -> str | None:
    return None if obj.get(key) in (None, "") else _id(obj, key, where)


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        missing = "missing" if value is None else f"expected a string, got {_kind(value)}"
        raise PayloadError(422, f"{where}.{key}: {missing}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _epoch(value: Any, where: str) -> datetime:
    """Seconds or milliseconds since the epoch (a number or a numeric string)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(422, f"{where}: expected a timestamp, got {_kind(value)}")
    seconds = value / 1000 if value >= MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(422, f"{where}: {value} is not a usable timestamp") from None


def _inquiry(where: str, **fields: Any) -> Inquiry:
    try:
        return Inquiry.model_validate(fields)
    except ValidationError as error:
        raise PayloadError(422, f"{where}: {validation_problems(error)[0]['message']}") from None


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as ``{"field", "message"}`` pairs (no input values: customer text)."""
    return [
        {
            "field": ".".join(str(part) for part in detail["loc"]) or "(top level)",
            "message": detail["msg"],
        }
        for detail in error.errors(include_input=False, include_url=False)
    ]


def _brand(ids: Iterable[str | None]) -> set[str]:
    return {value for value in ids if value}


# ---------------------------------------------------------------------- generic


def generic(data: Any) -> Inquiry:
    """``POST /webhooks/generic``: the body is one normalized inquiry."""
    if not isinstance(data, dict):
        raise PayloadError(422, f"the body must be an inquiry object, got {_kind(data)}")
    try:
        return Inquiry.model_validate(data)
    except ValidationError as error:
        problems = validation_problems(error)
        raise PayloadError(
            422, "the body is not a valid inquiry (schemas/inquiry.schema.json)", problems
        ) from None


def is_brand_author(inquiry: Inquiry, brand_accounts: BrandAccounts) -> bool:
    """Whether a normalized inquiry was written by one of the brand's configured accounts."""
    accounts = {
        "x": brand_accounts.x_user_id,
        "facebook": brand_accounts.page_id,
        "messenger": brand_accounts.page_id,
        "instagram": brand_accounts.instagram_id,
    }
    brand = accounts.get(inquiry.channel)
    return brand is not None and inquiry.author.id == brand


# ---------------------------------------------------------------------- X


def x_account_activity(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """``POST /webhooks/x``: mentions and replies (public), direct messages (private)."""
    if not isinstance(data, dict) or not (
        "for_user_id" in data or any(key.endswith(("_events", "_event")) for key in data)
    ):
        raise PayloadError(
            400,
            "not an X Account Activity payload: expected an object with for_user_id and "
            "tweet_create_events, direct_message_events or other *_events",
        )
    brand = _brand([_optional_id(data, "for_user_id", "(body)"), brand_accounts.x_user_id])
    found = Normalized()
    for number, tweet in enumerate(
        _list(data.get("tweet_create_events", []), "tweet_create_events")
    ):
        where = f"tweet_create_events[{number}]"
        _add(found, _tweet(_object(tweet, where), where, brand))
    users = _object(data.get("users", {}), "users")
    events = _list(data.get("direct_message_events", []), "direct_message_events")
    for number, event in enumerate(events):
        where = f"direct_message_events[{number}]"
        _add(found, _direct_message(_object(event, where), where, users, brand))
    for key, value in data.items():
        if key.endswith(("_events", "_event")) and key not in (
            "tweet_create_events",
            "direct_message_events",
        ):
            items = value if isinstance(value, list) else [value]
            for item in items:
                item_id = item.get("id") if isinstance(item, dict) else None
                found.ignored.append(
                    Ignored(item_id if isinstance(item_id, str) else None, f"{key}: not inquiries")
                )
    return found


def _add(found: Normalized, item: Inquiry | Echo | Ignored) -> None:
    if isinstance(item, Inquiry):
        found.inquiries.append(item)
    elif isinstance(item, Echo):
        found.echoes.append(item.post)
    else:
        found.ignored.append(item)


def _from(inquiry: Inquiry, brand: bool) -> Inquiry | Echo:
    return Echo(inquiry) if brand else inquiry


def _tweet(tweet: dict[str, Any], where: str, brand: set[str]) -> Inquiry | Echo:
    tweet_id = _id(tweet, "id_str", where)
    user = _object(tweet.get("user"), f"{where}.user")
    author_id = _id(user, "id_str", f"{where}.user")
    handle = _text(user, "screen_name", f"{where}.user")
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        text = extended["full_text"]
    elif isinstance(tweet.get("full_text"), str):
        text = tweet["full_text"]
    else:
        text = _text(tweet, "text", where)
    created = _text(tweet, "created_at", where)
    try:
        created_at = datetime.strptime(created, X_TIME_FORMAT)
    except ValueError:
        raise PayloadError(
            422,
            f"{where}.created_at: {created!r} is not X's time format (Wed Oct 10 "
            "20:19:24 +0000 2018)",
        ) from None
    # The conversation's root when X gives it (v2 conversation_id), else what it replies to.
    conversation = (
        _optional_id(tweet, "conversation_id_str", where)
        or _optional_id(tweet, "conversation_id", where)
        or _optional_id(tweet, "in_reply_to_status_id_str", where)
        or tweet_id
    )
    followers = user.get("followers_count")
    post = _inquiry(
        where,
        id=tweet_id,
        channel="x",
        kind="public",
        conversation_id=conversation,
        author={
            "id": author_id,
            "handle": handle,
            "name": user.get("name") if isinstance(user.get("name"), str) else None,
            "followers": followers if isinstance(followers, int) and followers >= 0 else None,
            "verified": user.get("verified") is True,
        },
        text=text,
        created_at=created_at,
        url=f"https://x.com/{handle}/status/{tweet_id}",
    )
    return _from(post, author_id in brand)


def _direct_message(
    event: dict[str, Any], where: str, users: dict[str, Any], brand: set[str]
) -> Inquiry | Echo | Ignored:
    event_id = _id(event, "id", where)
    if event.get("type") != "message_create":
        return Ignored(event_id, f"direct message event of type {event.get('type')!r}")
    create = _object(event.get("message_create"), f"{where}.message_create")
    sender = _id(create, "sender_id", f"{where}.message_create")
    echo = sender in brand
    if echo:  # the brand's DM: the conversation is the customer it went to
        target = create.get("target")
        recipient = target.get("recipient_id") if isinstance(target, dict) else None
        if not isinstance(recipient, str) or not recipient:
            return Ignored(event_id, ECHO)
    data = _object(create.get("message_data"), f"{where}.message_create.message_data")
    text = _text(data, "text", f"{where}.message_create.message_data")
    created_at = _epoch(event.get("created_timestamp"), f"{where}.created_timestamp")
    user = users.get(sender)
    user = user if isinstance(user, dict) else {}
    handle = user.get("screen_name")
    followers = user.get("followers_count")
    post = _inquiry(
        where,
        id=event_id,
        channel="x",
        kind="private",
        conversation_id=recipient if echo else sender,
        author={
            "id": sender,
            "handle": handle if isinstance(handle, str) and handle else sender,
            "name": user.get("name") if isinstance(user.get("name"), str) else None,
            "followers": followers if isinstance(followers, int) and followers >= 0 else None,
            "verified": user.get("verified") is True,
        },
        text=text,
        created_at=created_at,
    )
    return _from(post, echo)


# ---------------------------------------------------------------------- Meta


META_OBJECTS = {"page": "messenger", "instagram": "instagram"}  # object → channel of its messages


def meta(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """``POST /webhooks/meta``: Page feed comments, Messenger, Instagram comments and messages."""
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("object"), str)
        or (data["object"] not in META_OBJECTS)
    ):
        raise PayloadError(
            400,
            "not a Meta webhook payload careflow handles: expected an object with "
            '"object": "page" or "instagram" and "entry"',
        )
    kind = data["object"]
    configured = brand_accounts.page_id if kind == "page" else brand_accounts.instagram_id
    found = Normalized()
    for number, entry in enumerate(_list(data.get("entry"), "entry")):
        where = f"entry[{number}]"
        entry = _object(entry, where)
        account = _optional_id(entry, "id", where)
        brand = _brand([account, configured])
        for position, change in enumerate(_list(entry.get("changes", []), f"{where}.changes")):
            at = f"{where}.changes[{position}]"
            change = _object(change, at)
            _add(found, _change(kind, change, entry, at, brand))
        for position, event in enumerate(_list(entry.get("messaging", []), f"{where}.messaging")):
            at = f"{where}.messaging[{position}]"
            _add(found, _message(META_OBJECTS[kind], _object(event, at), at, brand))
    return found


def _change(
    kind: str, change: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored:
    field_name = change.get("field")
    value = _object(change.get("value"), f"{where}.value")
    if kind == "page" and field_name == "feed":
        if value.get("item") == "comment" and value.get("verb") == "add":
            return _facebook_comment(value, f"{where}.value", brand)
        item_id = value.get("comment_id") or value.get("post_id")
        return Ignored(
            item_id if isinstance(item_id, str) else None,
            f"feed {value.get('item')} {value.get('verb')}: not a new comment",
        )
    if kind == "instagram" and field_name in ("comments", "live_comments"):
        return _instagram_comment(value, entry, f"{where}.value", brand)
    return Ignored(None, f"{kind} field {field_name!r}: not handled")


def _facebook_comment(value: dict[str, Any], where: str, brand: set[str]) -> Inquiry | Echo:
    comment_id = _id(value, "comment_id", where)
    author = _object(value.get("from"), f"{where}.from")
    author_id = _id(author, "id", f"{where}.from")
    post_id = _optional_id(value, "post_id", where)
    parent_id = _optional_id(value, "parent_id", where)
    name = author.get("name") if isinstance(author.get("name"), str) else None
    post = value.get("post")
    permalink = post.get("permalink_url") if isinstance(post, dict) else None
    comment = _inquiry(
        where,
        id=comment_id,
        channel="facebook",
        kind="public",
        # One inquiry per comment thread: a reply joins the comment it answers.
        conversation_id=parent_id if parent_id and parent_id != post_id else comment_id,
        author={"id": author_id, "handle": name or author_id, "name": name},
        text=value.get("message") if isinstance(value.get("message"), str) else "",
        created_at=_facebook_time(value.get("created_time"), f"{where}.created_time"),
        url=permalink if isinstance(permalink, str) else None,
    )
    return _from(comment, author_id in brand)


def _facebook_time(value: Any, where: str) -> datetime:
    if isinstance(value, str) and not value.isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(422, f"{where}: {value!r} is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _epoch(value, where)


def _instagram_comment(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo:
    comment_id = _id(value, "id", where)
    author = _object(value.get("from"), f"{where}.from")
    author_id = _id(author, "id", f"{where}.from")
    username = _text(author, "username", f"{where}.from")
    parent_id = _optional_id(value, "parent_id", where)
    # The comment notification has no time of its own: the entry's is when Meta sent it.
    post = _inquiry(
        where,
        id=comment_id,
        channel="instagram",
        kind="public",
        conversation_id=parent_id or comment_id,
        author={"id": author_id, "handle": username},
        text=_text(value, "text", where),
        created_at=_epoch(entry.get("time"), where.rsplit(".changes", 1)[0] + ".time"),
    )
    return _from(post, author_id in brand)


def _message(
    channel: str, event: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored:
    message = event.get("message")
    if not isinstance(message, dict):
        other = next((key for key in event if key not in ("sender", "recipient", "timestamp")), "")
        return Ignored(None, f"messaging event {other!r}: not a message")
    sender = _id(_object(event.get("sender"), f"{where}.sender"), "id", f"{where}.sender")
    mid = _id(message, "mid", f"{where}.message")
    echo = message.get("is_echo") is True or sender in brand
    customer = sender
    if echo:  # the Page's own message: the conversation is the person it went to
        recipient = event.get("recipient")
        to = recipient.get("id") if isinstance(recipient, dict) else None
        if not isinstance(to, str) or not to or to in brand:
            return Ignored(mid, ECHO)
        customer = to
    text = message.get("text")
    if not isinstance(text, str):
        if "attachments" not in message:
            raise PayloadError(422, f"{where}.message.text: missing")
        text = "(attachment)"
    post = _inquiry(
        where,
        id=mid,
        channel=channel,
        kind="private",
        conversation_id=customer,
        author={"id": sender, "handle": sender},
        text=text,
        created_at=_epoch(event.get("timestamp"), f"{where}.timestamp"),
    )
    return _from(post, echo)
