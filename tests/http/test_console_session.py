"""The console's sessions and sign-in without a browser: signed cookies (forged, expired,
revoked), where sign-in may send you, and the refusals of a POST from elsewhere."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from careflow.errors import CareflowError
from careflow.http.app import create_app
from careflow.http.console import session
from careflow.http.console.routes import _local
from careflow.http.tokens import Tokens, parse_env
from careflow.settings import ApiTokenSettings, Settings
from tests.conftest import DEFAULT_PACK

TOKENS = "tok-ana=agent:Ana,tok-sam=supervisor:Sam"


def tokens(value: str = TOKENS) -> Tokens:
    return Tokens(parse_env(value))


def test_a_cookie_names_its_caller_until_it_expires() -> None:
    value, csrf = session.make_cookie(tokens(), "tok-ana")
    found = session.read_cookie(tokens(), value)
    assert found is not None and found.caller.name == "Ana" and found.csrf == csrf
    assert "tok-ana" not in value  # the token itself never goes into the cookie
    later = time.time() + session.LIFETIME + 1
    assert session.read_cookie(tokens(), value, now=later) is None


def test_a_forged_or_revoked_cookie_is_no_session() -> None:
    value, _ = session.make_cookie(tokens(), "tok-ana")
    body, _, mac = value.partition(".")
    assert session.read_cookie(tokens(), body + "." + mac[::-1]) is None
    assert session.read_cookie(tokens(), "garbage") is None
    # Other tokens sign with another key: every old session ends.
    assert session.read_cookie(tokens("tok-new=agent:Ana"), value) is None


def test_sign_in_sends_you_only_to_a_page_of_this_site() -> None:
    assert _local("/inquiries/x") == "/inquiries/x"
    for elsewhere in ("https://evil.example/", "//evil.example", "/\\evil", None, ""):
        assert _local(elsewhere) == "/"


async def _no_temporal() -> Client:
    raise CareflowError("no Temporal in this test")


class Console:
    """The app over httpx's ASGI transport, one request at a time (no redirects followed)."""

    def __init__(self, asgi: Any) -> None:
        self.asgi = asgi

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def one() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(one())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def app(tmp_path: Path, value: str = TOKENS) -> Console:
    settings = Settings(rules=str(DEFAULT_PACK), home=tmp_path, api=ApiTokenSettings(tokens=value))
    return Console(create_app(settings, _no_temporal))


def test_sign_in_takes_a_valid_token_from_this_site_only(tmp_path: Path) -> None:
    client = app(tmp_path)
    here = {"Origin": "http://console.test"}
    wrong = client.post("/signin", data={"token": "nope"}, headers=here)
    assert wrong.status_code == 401 and "that token is not valid" in wrong.text
    elsewhere = client.post("/signin", data={"token": "tok-ana"}, headers={"Origin": "http://x"})
    assert elsewhere.status_code == 403
    good = client.post("/signin", data={"token": "tok-ana"}, headers=here)
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie


def test_pages_without_a_session_ask_to_sign_in(tmp_path: Path) -> None:
    client = app(tmp_path)
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert client.get("/", headers={"Authorization": "Bearer bad"}).status_code == 401
    refused = client.post("/console/act/ack/inquiry-x-1", data={})
    assert refused.status_code == 403 and "Traceback" not in refused.text
    unknown = client.post("/console/act/explode/inquiry-x-1", data={})
    assert unknown.status_code == 404


def test_without_tokens_the_console_says_what_to_set(tmp_path: Path) -> None:
    answer = app(tmp_path, "").get("/")
    assert answer.status_code == 503 and "CAREFLOW_API_TOKENS" in answer.text


def test_when_temporal_is_away_a_page_says_so(tmp_path: Path) -> None:
    answer = app(tmp_path).get("/", headers={"Authorization": "Bearer tok-ana"})
    assert answer.status_code == 503 and "no Temporal in this test" in answer.text
