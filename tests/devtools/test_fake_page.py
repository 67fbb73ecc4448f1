"""The fake platform's posts: JSON for tests and scripts, a readable page for people."""

from __future__ import annotations

import asyncio
import re

import httpx

from careflow.devtools.fake_platform import DEFAULT_TOKEN, fake_platform_app

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d")


async def _client_run(*requests: tuple[str, str, dict[str, object]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=fake_platform_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        return [await client.request(method, url, **kw) for method, url, kw in requests]  # type: ignore[arg-type]


def test_posts_are_json_for_scripts_and_a_page_for_people() -> None:
    text = "Hi <Sam>, we're on it & sorry"
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    posted, listed, page, negotiated = asyncio.run(
        _client_run(
            ("POST", "/2/tweets", {"json": {"text": text}, "headers": auth}),
            ("GET", "/_fake/posts", {}),  # httpx asks for */*: JSON, as tests and the demo read
            ("GET", "/_fake/", {}),
            ("GET", "/_fake/posts", {"headers": {"Accept": "text/html,application/xhtml+xml"}}),
        )
    )
    assert posted.status_code in (200, 201)
    assert listed.headers["content-type"].startswith("application/json")
    assert listed.json()[0]["text"] == text
    for answer in (page, negotiated):
        assert answer.headers["content-type"].startswith("text/html")
        assert "posted on X" in answer.text
        assert "Hi &lt;Sam&gt;, we&#39;re on it &amp; sorry" in answer.text  # escaped: data
        assert " UTC" in answer.text and not ISO_TIME.search(answer.text)


def test_an_empty_page_says_so() -> None:
    [page] = asyncio.run(_client_run(("GET", "/_fake/", {})))
    assert page.status_code == 200 and "Nothing posted yet" in page.text
