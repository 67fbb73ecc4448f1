"""The normalized inquiry: one post from any platform, as ``schemas/inquiry.schema.json`` states it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]*$"
# An Instagram @mention of the brand on someone else's media: answered through the brand
# account's /mentions edge (a reply under their comment or caption), so its id names both.
INSTAGRAM_MENTION = "mention:"


def instagram_mention_id(media_id: str, comment_id: str | None) -> str:
    """``mention:<media>`` (a caption) or ``mention:<media>:<comment>`` (a comment)."""
    return f"{INSTAGRAM_MENTION}{media_id}" + (f":{comment_id}" if comment_id else "")


def instagram_mention(post_id: str) -> tuple[str, str | None] | None:
    """The media and comment of an Instagram mention's id, or None for any other id."""
    if not post_id.startswith(INSTAGRAM_MENTION):
        return None
    media, _, comment = post_id.removeprefix(INSTAGRAM_MENTION).partition(":")
    return (media, comment or None) if media else None


class Author(BaseModel):
    """The customer who wrote the post."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1)]
    handle: Annotated[str, StringConstraints(min_length=1)]
    name: str | None = None
    followers: Annotated[int, Field(ge=0)] | None = None
    verified: bool = False


class Attachment(BaseModel):
    """A photo, video, file… the customer sent with the post: its kind and where to see it
    (platform CDN links expire, so agents should open it soon)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Annotated[str, StringConstraints(min_length=1)]
    url: str | None = None


class Inquiry(BaseModel):
    """A post normalized from its platform's payload; ``created_at`` starts every clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1)]
    channel: Annotated[str, StringConstraints(pattern=CHANNEL_PATTERN)]
    kind: Literal["public", "private"]
    conversation_id: Annotated[str, StringConstraints(min_length=1)]
    author: Author
    text: str
    created_at: AwareDatetime
    url: str | None = None
    # Defaulted, so inquiries recorded before attachments were kept still decode in replays.
    attachments: tuple[Attachment, ...] = ()

    @property
    def received_at(self) -> datetime:
        """When the customer posted: the start of the acknowledge clock."""
        return self.created_at
