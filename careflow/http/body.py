"""Reading a request body with a ceiling, for careflow's small ASGI apps (the webhook intake, the
codec server): a client cannot make the server buffer an unbounded body."""

from __future__ import annotations

from starlette.requests import Request


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it grows past ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
