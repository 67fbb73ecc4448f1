"""Meta deliveries (``POST /webhooks/meta``) → inquiries: Facebook Page feed comments,
Instagram comments (public) and Messenger / Instagram messages (private); the Page's or
account's own comments and message echoes are echoes.

The shapes (only the fields read here matter):

- Facebook Page: ``{"object": "page", "entry": [{"id": <page>, "time", "changes":
  [{"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id", "post_id",
  "parent_id", "from": {"id", "name"}, "message", "created_time"}}], "messaging": [{"sender":
  {"id"}, "recipient": {"id"}, "timestamp", "message": {"mid", "text", "is_echo"}}]}]}``.
- Instagram: ``{"object": "instagram", "entry": [{"id": <account>, "time", "changes":
  [{"field": "comments", "value": {"id", "text", "from": {"id", "username"}, "media": {"id"},
  "parent_id"}}], "messaging": [<as Messenger>]}]}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from careflow.channels.common import (
    ECHO,
    Echo,
    Ignored,
    Normalized,
    PayloadError,
    brand_ids,
    echo_if,
    epoch_at,
    id_at,
    inquiry_at,
    list_at,
    object_at,
    optional_id_at,
    text_at,
)
from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts

META_OBJECTS = {"page": "messenger", "instagram": "instagram"}  # object → channel of its messages


def webhook(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """Page feed comments, Messenger, Instagram comments and messages; the rest ignored."""
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
    for number, entry in enumerate(list_at(data.get("entry"), "entry")):
        where = f"entry[{number}]"
        entry = object_at(entry, where)
        account = optional_id_at(entry, "id", where)
        brand = brand_ids([account, configured])
        for position, change in enumerate(list_at(entry.get("changes", []), f"{where}.changes")):
            at = f"{where}.changes[{position}]"
            change = object_at(change, at)
            found.add(_change(kind, change, entry, at, brand))
        messaging = list_at(entry.get("messaging", []), f"{where}.messaging")
        for position, event in enumerate(messaging):
            at = f"{where}.messaging[{position}]"
            found.add(_message(META_OBJECTS[kind], object_at(event, at), at, brand))
    return found


def _change(
    kind: str, change: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored:
    field_name = change.get("field")
    value = object_at(change.get("value"), f"{where}.value")
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
    comment_id = id_at(value, "comment_id", where)
    author = object_at(value.get("from"), f"{where}.from")
    author_id = id_at(author, "id", f"{where}.from")
    post_id = optional_id_at(value, "post_id", where)
    parent_id = optional_id_at(value, "parent_id", where)
    name = author.get("name") if isinstance(author.get("name"), str) else None
    post = value.get("post")
    permalink = post.get("permalink_url") if isinstance(post, dict) else None
    comment = inquiry_at(
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
    return echo_if(comment, author_id in brand)


def _facebook_time(value: Any, where: str) -> datetime:
    """Graph API times are ISO 8601 strings; webhooks often send epoch seconds instead."""
    if isinstance(value, str) and not value.isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(422, f"{where}: {value!r} is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return epoch_at(value, where)


def _instagram_comment(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo:
    comment_id = id_at(value, "id", where)
    author = object_at(value.get("from"), f"{where}.from")
    author_id = id_at(author, "id", f"{where}.from")
    username = text_at(author, "username", f"{where}.from")
    parent_id = optional_id_at(value, "parent_id", where)
    # The comment notification has no time of its own: the entry's is when Meta sent it.
    post = inquiry_at(
        where,
        id=comment_id,
        channel="instagram",
        kind="public",
        conversation_id=parent_id or comment_id,
        author={"id": author_id, "handle": username},
        text=text_at(value, "text", where),
        created_at=epoch_at(entry.get("time"), where.rsplit(".changes", 1)[0] + ".time"),
    )
    return echo_if(post, author_id in brand)


def _message(
    channel: str, event: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored:
    message = event.get("message")
    if not isinstance(message, dict):
        other = next((key for key in event if key not in ("sender", "recipient", "timestamp")), "")
        return Ignored(None, f"messaging event {other!r}: not a message")
    sender = id_at(object_at(event.get("sender"), f"{where}.sender"), "id", f"{where}.sender")
    mid = id_at(message, "mid", f"{where}.message")
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
    post = inquiry_at(
        where,
        id=mid,
        channel=channel,
        kind="private",
        conversation_id=customer,
        author={"id": sender, "handle": sender},
        text=text,
        created_at=epoch_at(event.get("timestamp"), f"{where}.timestamp"),
    )
    return echo_if(post, echo)
