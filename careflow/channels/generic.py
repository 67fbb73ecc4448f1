"""The generic JSON door (``POST /webhooks/generic``): the body is already one normalized
inquiry (schemas/inquiry.schema.json), so this only checks it and lists every problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from careflow.channels.common import PayloadError, kind_of, validation_problems
from careflow.engine.post import Inquiry


def inquiry(data: Any) -> Inquiry:
    """The body as an inquiry, or a 422 whose problems name each wrong field."""
    if not isinstance(data, dict):
        raise PayloadError(422, f"the body must be an inquiry object, got {kind_of(data)}")
    try:
        return Inquiry.model_validate(data)
    except ValidationError as error:
        problems = validation_problems(error)
        raise PayloadError(
            422, "the body is not a valid inquiry (schemas/inquiry.schema.json)", problems
        ) from None
