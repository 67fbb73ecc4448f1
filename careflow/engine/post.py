"""The normalized inquiry: one post from any platform, as ``schemas/inquiry.schema.json`` states it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]*$"


class Author(BaseModel):
    """The customer who wrote the post."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1)]
    handle: Annotated[str, StringConstraints(min_length=1)]
    name: str | None = None
    followers: Annotated[int, Field(ge=0)] | None = None
    verified: bool = False


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

    @property
    def received_at(self) -> datetime:
        """When the customer posted: the start of the acknowledge clock."""
        return self.created_at
