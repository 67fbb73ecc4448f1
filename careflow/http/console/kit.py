"""The console's page helpers (sign-in, forms and CSRF, the Temporal client, pages and problem
pages), handed by ``routes.console_routes`` to the pages kept in modules of their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from temporalio.client import Client

from careflow.http.console.session import Session
from careflow.http.tokens import Role


@dataclass(frozen=True)
class Kit:
    """What a console page needs from ``console_routes``; each is the one its pages use."""

    signed_in: Callable[[Request, frozenset[Role], str], Session | Response]
    client_or_page: Callable[[Request, Session], Awaitable[Client | Response]]
    problem: Callable[..., HTMLResponse]
    page: Callable[..., HTMLResponse]
    form: Callable[[Request], Awaitable[dict[str, str] | Response]]
    guarded: Callable[[Request, Session, dict[str, str]], Response | None]

    async def posted(
        self, request: Request, roles: frozenset[Role], what: str
    ) -> tuple[Session, dict[str, str]] | Response:
        """A form POST's caller (of ``roles``) and fields, once its CSRF token is checked."""
        found = self.signed_in(request, roles, what)
        if isinstance(found, Response):
            return found
        fields = await self.form(request)
        if isinstance(fields, Response):
            return fields
        if refused := self.guarded(request, found, fields):
            return refused
        return found, fields


def plain(message: str) -> str:
    """A refusal as a sentence: Temporal's wrapping off, first letter up."""
    message = message.strip()
    return message[:1].upper() + message[1:] if message else "That was not done."
