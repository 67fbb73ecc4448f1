"""The generic JSON door (``POST /webhooks/generic``): the body is already one normalized
inquiry (schemas/inquiry.schema.json), so this only checks it and lists every problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from careflow.channels.common import PayloadError, checked, kind_of, validation_problems
from careflow.engine.post import Inquiry

NOT_VALID = "the body is not a valid inquiry (schemas/inquiry.schema.json)"


def inquiry(data: Any) -> Inquiry:
    """The body as an inquiry whose ids are usable, or a 422 whose problems name each wrong
    field (the webhook's door and ``careflow submit``'s)."""
    if not isinstance(data, dict):
        raise PayloadError(422, f"the body must be an inquiry object, got {kind_of(data)}")
    try:
        post = Inquiry.model_validate(data)
    except ValidationError as error:
        raise PayloadError(422, NOT_VALID, validation_problems(error)) from None
    return checked(post, "")
