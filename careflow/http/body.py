"""Reading a request body with a ceiling, for careflow's small ASGI apps (the webhook intake, the
codec server): a client cannot make the server buffer an unbounded body; and the text a body
field may not leave blank."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from starlette.requests import Request


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value


NotBlank = Annotated[str, AfterValidator(_not_blank)]


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it grows past ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
