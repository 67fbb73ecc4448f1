"""Meta deliveries (``POST /webhooks/meta``) → inquiries: Facebook Page feed comments, visitor
posts and Page mentions, Instagram comments and mentions (public), Messenger / Instagram
messages (private, from ``messaging`` and from ``standby`` when another app such as Page Inbox
owns the thread); the Page's or account's own posts and message echoes are echoes. A customer's
edit (``message_edit``, a feed item ``verb: edited``) and unsent message (``is_deleted``) are
``Change``s for the inquiry that has the message. Instagram comments cannot be edited (Meta's
``comments`` field reference has no edit form), so Instagram sends only message edits.

Each event is read on its own (``isolated``): one careflow cannot read is a problem listed
beside the others, never a refusal of the delivery, because Meta retries a refused delivery
whole. Only a body that is not a ``page`` or ``instagram`` object is refused (400).

The shapes (only the fields read here matter; each is in tests/channels/payloads/meta/):

- Facebook Page: ``{"object": "page", "entry": [{"id": <page>, "time", "changes": [{"field":
  "feed", "value": {"item": "comment" | "post" | "status" | "photo" | "video", "verb": "add",
  "comment_id", "post_id", "parent_id", "from": {"id", "name"} (or "sender_id",
  "sender_name"), "message", "photo" | "photos" | "link" | "video", "created_time"}}, {"field":
  "mention", "value": {"item": "post" | "comment", "verb", "post_id", "comment_id",
  "message", "sender_id"?, "sender_name"?, "created_time"}}], "messaging" | "standby":
  [{"sender": {"id"}, "recipient": {"id"}, "timestamp", "message": {"mid", "text",
  "is_echo", "attachments": [{"type", "payload": {"url"}}], "sticker_id", "is_deleted",
  "is_unsupported"}, "message_edit": {"mid", "text", "num_edit"}, "messaging_feedback":
  {"feedback_screens": [{"screen_id", "questions": {<id>: {"type": "csat", "payload": "1".."5",
  "follow_up": {"type": "free_form", "payload"}}}}]}}]}]}`` (``messaging_feedback``: the
  customer's answer to the customer-feedback template, a ``Feedback`` for their open inquiry).
- Instagram: ``{"object": "instagram", "entry": [{"id": <account>, "time", "changes":
  [{"field": "comments", "value": {"id", "text", "from": {"id", "username"} (absent in the
  older form), "media": {"id"}, "parent_id"}}, {"field": "mentions", "value": {"media_id",
  "comment_id"?}}], "messaging": [<as Messenger>]}]}``.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import partial
from typing import Any

from careflow.channels.common import (
    ECHO,
    Change,
    Echo,
    Feedback,
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
from careflow.engine.messenger_feedback import read_answer
from careflow.engine.post import Inquiry, instagram_mention_id
from careflow.settings import BrandAccounts

META_OBJECTS = {"page": "messenger", "instagram": "instagram"}  # object → channel of its messages
# Events under these keys of an entry are messages (``standby``: another app owns the thread).
MESSAGE_LISTS = ("messaging", "standby")
VISITOR_POSTS = ("post", "status", "photo", "video")  # feed items a visitor's post arrives as
# Whoever wrote it is not in the payload (Instagram mentions, the older comment form, some
# Page mentions): the inquiry names this author, and the agent opens the post to see who.
UNKNOWN_AUTHOR = {"id": "unknown", "handle": "unknown"}
BRAND_CHANGE = "the brand's own edit or unsent message: careflow's record is its own"
NO_CSAT = "messaging_feedback without a CSAT answer (careflow asks only a CSAT question)"
UNSUPPORTED = "is_unsupported: Meta did not deliver this message's content (a type its API lacks)"
# How an attachment reads where the text would be, when a post has no text of its own.
PLACEHOLDERS = {
    "image": "photo",
    "photo": "photo",
    "video": "video",
    "audio": "voice message",
    "file": "file",
    "sticker": "sticker",
    "location": "location",
    "story_mention": "story mention",
    "share": "shared post",
    "ig_reel": "reel",
    "reel": "reel",
    "fallback": "link",
    "template": "link",
}


def webhook(data: Any, brand_accounts: BrandAccounts) -> Normalized:
    """Every event of a ``page`` or ``instagram`` delivery: taken, ignored with a reason, or a
    problem; a body of another kind is a 400."""
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
    entries = data.get("entry")
    if not isinstance(entries, list):
        found.problems.append(Problem(None, "entry", _not_a("an array", entries)))
        return found
    for number, entry in enumerate(entries):
        where = f"entry[{number}]"
        if not isinstance(entry, dict):
            found.problems.append(Problem(None, where, _not_a("an object", entry)))
            continue
        try:
            account = optional_id_at(entry, "id", where)
        except PayloadError as error:  # whose entry it is decides what an echo is
            found.problems.append(Problem(None, where, error.message))
            continue
        brand = brand_ids([account, configured])
        for position, change in enumerate(events_at(found, entry, "changes", f"{where}.changes")):
            at = f"{where}.changes[{position}]"
            isolated(found, at, partial(_change, kind, change, entry, at, brand))
        for key in MESSAGE_LISTS:
            for position, event in enumerate(events_at(found, entry, key, f"{where}.{key}")):
                at = f"{where}.{key}[{position}]"
                read = partial(_message, META_OBJECTS[kind], event, at, brand, entry.get("time"))
                isolated(found, at, read, _mid(event))
    return found


def _not_a(expected: str, value: Any) -> str:
    return f"expected {expected}, got {kind_of(value)}"


def _mid(event: Any) -> str | None:
    """The message id of a messaging event, if it has a readable one (for a problem's id)."""
    for key in ("message", "message_edit", "read", "delivery", "reaction"):
        part = event.get(key) if isinstance(event, dict) else None
        if isinstance(part, dict) and isinstance(part.get("mid"), str) and part["mid"]:
            return str(part["mid"])
    return None


def _text(value: Any) -> str:
    """Meta's text as the customer wrote it: HTML entities (``&amp;``) unescaped."""
    return html.unescape(value) if isinstance(value, str) else ""


def _placeholder(attachments: list[dict[str, Any]], fallback: str = "attachment") -> str:
    """Readable text for a post that is only media: ``(photo)``, ``(photo, video)``."""
    labels: list[str] = []
    for attachment in attachments:
        label = PLACEHOLDERS.get(str(attachment["type"]), "attachment")
        if label not in labels:
            labels.append(label)
    return f"({', '.join(labels or [fallback])})"


# ---------------------------------------------------------------------- changes (public)


def _change(
    kind: str, change: Any, entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored | Change:
    change = object_at(change, where)
    field_name = change.get("field")
    value = object_at(change.get("value"), f"{where}.value")
    at = f"{where}.value"
    if kind == "page" and field_name == "feed":
        return _feed(value, entry, at, brand)
    if kind == "page" and field_name == "mention":
        return _page_mention(value, entry, at, brand)
    if kind == "instagram" and field_name in ("comments", "live_comments"):
        return _instagram_comment(value, entry, at, brand)
    if kind == "instagram" and field_name == "mentions":
        return _instagram_mention(value, entry, at)
    return Ignored(None, f"{kind} field {field_name!r}: not handled")


def _feed(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo | Ignored | Change:
    item, verb = value.get("item"), value.get("verb")
    item_id = value.get("comment_id") or value.get("post_id")
    some_id = str(item_id) if isinstance(item_id, str | int) else None
    if verb in ("edited", "edit") and item in ("comment", *VISITOR_POSTS):  # both are sent
        return _feed_edit(value, entry, where, brand)
    if verb == "add" and item == "comment":
        return _facebook_comment(value, entry, where, brand)
    if verb == "add" and item in VISITOR_POSTS:
        return _visitor_post(value, entry, where, brand)
    return Ignored(some_id, f"feed {item} {verb}: not a new post or comment")


def _feed_author(value: dict[str, Any], where: str) -> dict[str, Any]:
    """``from`` when the payload has it, else the older ``sender_id`` / ``sender_name``."""
    if value.get("from") is None and value.get("sender_id") is not None:
        author_id = id_at(value, "sender_id", where)
        name = value.get("sender_name")
    else:
        author = object_at(value.get("from"), f"{where}.from")
        author_id = id_at(author, "id", f"{where}.from")
        name = author.get("name")
    name = name if isinstance(name, str) and name else None
    return {"id": author_id, "handle": name or author_id, "name": name}


def _feed_attachments(value: dict[str, Any]) -> list[dict[str, Any]]:
    """A feed item's media: ``photo`` / ``video`` (a comment's), ``photos``, or a photo or video
    post's ``link``."""
    found: list[dict[str, Any]] = []
    for key, kind in (("photo", "image"), ("video", "video")):
        if isinstance(value.get(key), str) and value[key]:
            found.append({"type": kind, "url": value[key]})
    photos = value.get("photos")
    if isinstance(photos, list):
        found += [{"type": "image", "url": url} for url in photos if isinstance(url, str) and url]
    item, link = value.get("item"), value.get("link")
    if item in ("photo", "video") and isinstance(link, str) and link and not found:
        found.append({"type": "image" if item == "photo" else "video", "url": link})
    return found


def _feed_time(value: dict[str, Any], entry: dict[str, Any], where: str) -> datetime:
    """The item's ``created_time``, or the entry's time when the item has none."""
    if value.get("created_time") is not None:
        return _facebook_time(value["created_time"], f"{where}.created_time")
    return epoch_at(entry.get("time"), where.rsplit(".changes", 1)[0] + ".time")


def _facebook_comment(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo:
    comment_id = id_at(value, "comment_id", where)
    author = _feed_author(value, where)
    post_id = optional_id_at(value, "post_id", where)
    parent_id = optional_id_at(value, "parent_id", where)
    post = value.get("post")
    permalink = post.get("permalink_url") if isinstance(post, dict) else None
    attachments = _feed_attachments(value)
    comment = inquiry_at(
        where,
        id=comment_id,
        channel="facebook",
        kind="public",
        # One inquiry per comment thread: a reply joins the comment it answers.
        conversation_id=parent_id if parent_id and parent_id != post_id else comment_id,
        author=author,
        text=_text(value.get("message")) or _placeholder(attachments),
        created_at=_feed_time(value, entry, where),
        url=permalink if isinstance(permalink, str) else None,
        attachments=attachments,
    )
    return echo_if(comment, author["id"] in brand)


def _feed_edit(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Change | Ignored:
    """An edited comment or visitor post: its new text, for the inquiry that has it (keyed as
    the comment or post itself was)."""
    item = value.get("item")
    if item == "comment":
        item_id = id_at(value, "comment_id", where)
        post_id = optional_id_at(value, "post_id", where)
        parent_id = optional_id_at(value, "parent_id", where)
        conversation = parent_id if parent_id and parent_id != post_id else item_id
    else:
        item_id = conversation = id_at(value, "post_id", where)
    author = _feed_author(value, where)
    if author["id"] in brand:
        return Ignored(item_id, BRAND_CHANGE)
    attachments = _feed_attachments(value)
    return Change(
        kind="edit",
        id=item_id,
        channel="facebook",
        private=False,
        conversation_id=conversation,
        author=author,
        at=_feed_time(value, entry, where),
        text=_text(value.get("message")) or _placeholder(attachments),
    )


def _visitor_post(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Ignored:
    """A post someone else wrote on the Page: a public inquiry, its comments join it."""
    post_id = id_at(value, "post_id", where)
    author = _feed_author(value, where)
    if author["id"] in brand:
        return Ignored(post_id, "the Page's own post: not an inquiry")
    attachments = _feed_attachments(value)
    return inquiry_at(
        where,
        id=post_id,
        channel="facebook",
        kind="public",
        conversation_id=post_id,
        author=author,
        text=_text(value.get("message")) or _placeholder(attachments, "post"),
        created_at=_feed_time(value, entry, where),
        attachments=attachments,
    )


def _page_mention(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Ignored:
    """A post or comment elsewhere on Facebook that mentions the Page."""
    item, verb = value.get("item"), value.get("verb")
    if verb != "add" or item not in ("post", "comment"):
        return Ignored(None, f"mention {item} {verb}: not a new mention")
    key = "comment_id" if item == "comment" else "post_id"
    mention_id = id_at(value, key, where)
    if value.get("sender_id") is not None or value.get("from") is not None:
        author = _feed_author(value, where)
    else:
        author = dict(UNKNOWN_AUTHOR)
    if author["id"] in brand:
        return Ignored(mention_id, "the Page mentioning itself: not an inquiry")
    return inquiry_at(
        where,
        id=mention_id,
        channel="facebook",
        kind="public",
        conversation_id=mention_id,
        author=author,
        text=_text(value.get("message")) or f"(mentioned the Page in a {item})",
        created_at=_feed_time(value, entry, where),
    )


def _facebook_time(value: Any, where: str) -> datetime:
    """Graph API times are ISO 8601 strings; webhooks often send epoch seconds instead."""
    if isinstance(value, str) and not value.isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(422, f"{where}: {value!r} is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return epoch_at(value, where)


def _entry_time(entry: dict[str, Any], where: str) -> datetime:
    """An Instagram change has no time of its own: the entry's is when Meta sent it."""
    return epoch_at(entry.get("time"), where.rsplit(".changes", 1)[0] + ".time")


def _instagram_comment(
    value: dict[str, Any], entry: dict[str, Any], where: str, brand: set[str]
) -> Inquiry | Echo:
    comment_id = id_at(value, "id", where)
    if value.get("from") is None:  # the older form: id and text only
        author = dict(UNKNOWN_AUTHOR)
    else:
        sender = object_at(value.get("from"), f"{where}.from")
        author = {
            "id": id_at(sender, "id", f"{where}.from"),
            "handle": text_at(sender, "username", f"{where}.from"),
        }
    parent_id = optional_id_at(value, "parent_id", where)
    post = inquiry_at(
        where,
        id=comment_id,
        channel="instagram",
        kind="public",
        conversation_id=parent_id or comment_id,
        author=author,
        text=_text(text_at(value, "text", where)) or "(comment without text)",
        created_at=_entry_time(entry, where),
    )
    return echo_if(post, author["id"] in brand)


def _instagram_mention(value: dict[str, Any], entry: dict[str, Any], where: str) -> Inquiry:
    """The account @mentioned in a comment or a caption: Meta sends only the ids (the text and
    who wrote it are read with the ``mentioned_comment`` / ``mentioned_media`` fields)."""
    media_id = id_at(value, "media_id", where)
    comment_id = optional_id_at(value, "comment_id", where)
    mention_id = instagram_mention_id(media_id, comment_id)  # the reply goes by /mentions
    where_said = "a comment" if comment_id else "a post's caption"
    return inquiry_at(
        where,
        id=mention_id,
        channel="instagram",
        kind="public",
        conversation_id=mention_id,
        author=dict(UNKNOWN_AUTHOR),
        text=f"(mentioned the account in {where_said}; the webhook carries no text)",
        created_at=_entry_time(entry, where),
    )


# ---------------------------------------------------------------------- messages (private)


def _message_attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    """``{type, url}`` of each attachment (a sticker is an image with a ``sticker_id``)."""
    raw = message.get("attachments")
    found: list[dict[str, Any]] = []
    for attachment in raw if isinstance(raw, list) else []:
        if not isinstance(attachment, dict):
            continue
        kind = attachment.get("type")
        payload = attachment.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        if payload.get("sticker_id") is not None or message.get("sticker_id") is not None:
            kind = "sticker"
        url = payload.get("url") if isinstance(payload.get("url"), str) else attachment.get("url")
        found.append(
            {
                "type": kind if isinstance(kind, str) and kind else "attachment",
                "url": url if isinstance(url, str) and url else None,
            }
        )
    return found


def _message_change(
    channel: str, event: dict[str, Any], key: str, where: str, brand: set[str]
) -> Change | Ignored:
    """``message_edit`` (the new text) or an unsent ``message`` (``is_deleted``): the change a
    customer made to a message of their conversation, keyed by its ``mid``."""
    part = event[key]
    mid = id_at(part, "mid", f"{where}.{key}")
    sender = id_at(object_at(event.get("sender"), f"{where}.sender"), "id", f"{where}.sender")
    if sender in brand or part.get("is_echo") is True:
        return Ignored(mid, BRAND_CHANGE)
    at = epoch_at(event.get("timestamp"), f"{where}.timestamp")
    author = {"id": sender, "handle": sender, "name": None}
    text = _text(text_at(part, "text", f"{where}.{key}")) if key == "message_edit" else None
    return Change(
        kind="edit" if key == "message_edit" else "withdrawn",
        id=mid,
        channel=channel,
        private=True,
        conversation_id=sender,  # a DM conversation is keyed by its customer
        author=author,
        at=at,
        text=text,
    )


def _feedback(
    channel: str, event: dict[str, Any], where: str, brand: set[str], entry_time: Any
) -> Feedback | Ignored:
    """``messaging_feedback``: the customer's answer to the customer-feedback template, their
    CSAT score (and comment) for the conversation's open inquiry. Meta's example puts the time
    on the entry only (when the customer submitted), so that is taken when the event has none."""
    sender = id_at(object_at(event.get("sender"), f"{where}.sender"), "id", f"{where}.sender")
    if event.get("timestamp") is None and entry_time is not None:
        at = epoch_at(entry_time, f"{where}: entry.time")
    else:
        at = epoch_at(event.get("timestamp"), f"{where}.timestamp")
    answer_id = f"feedback-{sender}-{int(at.timestamp() * 1000)}"
    if sender in brand:
        return Ignored(answer_id, ECHO)
    try:
        answer = read_answer(event["messaging_feedback"])
    except ValueError as error:
        raise PayloadError(422, f"{where}.messaging_feedback.{error}") from None
    if answer is None:
        return Ignored(answer_id, NO_CSAT)
    author = {"id": sender, "handle": sender, "name": None}
    return Feedback(answer_id, channel, sender, author, at, answer)


def _message(
    channel: str, event: Any, where: str, brand: set[str], entry_time: Any = None
) -> Inquiry | Echo | Ignored | Change | Feedback:
    event = object_at(event, where)
    message = event.get("message")
    if not isinstance(message, dict):
        if isinstance(event.get("message_edit"), dict):
            return _message_change(channel, event, "message_edit", where, brand)
        if isinstance(event.get("messaging_feedback"), dict) and channel == "messenger":
            return _feedback(channel, event, where, brand, entry_time)
        other = next((key for key in event if key not in ("sender", "recipient", "timestamp")), "")
        return Ignored(_mid(event), f"messaging event {other!r}: not a message")
    mid = id_at(message, "mid", f"{where}.message")
    if message.get("is_deleted") is True:
        return _message_change(channel, event, "message", where, brand)
    if message.get("is_unsupported") is True:
        return Ignored(mid, UNSUPPORTED)
    sender = id_at(object_at(event.get("sender"), f"{where}.sender"), "id", f"{where}.sender")
    echo = message.get("is_echo") is True or sender in brand
    customer = sender
    if echo:  # the Page's (or another app's) own message: the conversation is whom it went to
        recipient = event.get("recipient")
        to = recipient.get("id") if isinstance(recipient, dict) else None
        to = str(to) if isinstance(to, int) and not isinstance(to, bool) else to
        if not isinstance(to, str) or not to or to in brand:
            return Ignored(mid, ECHO)
        customer = to
    attachments = _message_attachments(message)
    text = message.get("text")
    if not isinstance(text, str) and not attachments:
        raise PayloadError(422, f"{where}.message.text: missing")
    if not isinstance(text, str) or (not text and attachments):
        text = _placeholder(attachments)
    post = inquiry_at(
        where,
        id=mid,
        channel=channel,
        kind="private",
        conversation_id=customer,
        author={"id": sender, "handle": sender},
        text=_text(text),
        created_at=epoch_at(event.get("timestamp"), f"{where}.timestamp"),
        attachments=attachments,
    )
    return echo_if(post, echo)
