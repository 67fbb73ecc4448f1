"""Which platform credentials work, each asked of its platform's "who am I" call
(``careflow doctor``): X ``GET /2/users/me`` with the brand's user token, Meta ``GET /me`` with
the Page token. What is said names the account and the variable, never a token.

Meta's ``/debug_token`` (expiry, scopes) is not asked: it needs an app access token (the app id
and secret), which careflow is not otherwise configured with, and ``/me`` already proves the Page
token works now.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.exceptions import ApplicationError

from activities.adapters.http import HTTP_TIMEOUT, Api
from activities.adapters.x_tokens import XTokens
from careflow.settings import PlatformSettings


@dataclass(frozen=True)
class Check:
    """One credential: ``ok`` None when it is not configured."""

    platform: str
    ok: bool | None
    detail: str


async def check_x(client: httpx.AsyncClient, settings: PlatformSettings, home: Path) -> Check:
    tokens = XTokens(settings, home)
    if not tokens.refreshing and not settings.x_bearer_token:
        return Check(
            "X", None, "not configured (CAREFLOW_X_BEARER_TOKEN, CAREFLOW_X_REFRESH_TOKEN)"
        )
    how = (
        "OAuth 2.0 refresh token (CAREFLOW_X_REFRESH_TOKEN): renewed when due"
        if tokens.refreshing
        else "fixed token (CAREFLOW_X_BEARER_TOKEN): X's user tokens expire two hours after issue"
    )
    try:
        token = await tokens.current(client)
        renew = functools.partial(tokens.renew, client) if tokens.refreshing else None
        api = Api.bearer(client, "X", settings.x_api_base, token, "no X token", renew)
        body = await api.call("GET", "/2/users/me", None)
    except ApplicationError as error:
        return Check("X", False, f"{_said(error)} ({how})")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    who = f"@{data.get('username')} (user {data.get('id')})" if data else "an unnamed user"
    return Check("X", True, f"{who}, {how}")


async def check_meta(client: httpx.AsyncClient, settings: PlatformSettings) -> Check:
    if not settings.meta_page_token:
        return Check("Meta", None, "not configured (CAREFLOW_META_PAGE_TOKEN)")
    api = Api.bearer(client, "Meta", settings.meta_graph_base, settings.meta_page_token, "")
    try:
        body = await api.call("GET", "/me?fields=id,name", None)
    except ApplicationError as error:
        return Check("Meta", False, f"{_said(error)} (CAREFLOW_META_PAGE_TOKEN)")
    name = body.get("name") or "a Page"
    return Check(
        "Meta", True, f"{name} (id {body.get('id')}), Page token (CAREFLOW_META_PAGE_TOKEN)"
    )


def _said(error: ApplicationError) -> str:
    """The adapter's words for a failure, about a credential rather than a post."""
    return error.message.replace("refused the post", "refused the credential")


async def check_all(
    settings: PlatformSettings, home: Path, transport: httpx.AsyncBaseTransport | None = None
) -> list[Check]:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, transport=transport) as client:
        return [await check_x(client, settings, home), await check_meta(client, settings)]
