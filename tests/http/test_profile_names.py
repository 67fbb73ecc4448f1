"""Names for Messenger and Instagram customers: read from Graph, cached (bounded), and never a
failed intake: a 4xx, a 429, a timeout leave the name unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from careflow.devtools.fake_platform import fake_platform_app
from careflow.devtools.fake_reads import made_up_profile
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import display_name
from careflow.http.profile_names import ProfileNames
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import PlatformSettings

TOKEN = "page-token-0123456789"
PSID = "24266381753005180"
GRAPH = "https://graph.example/v21.0"


def dm(channel: str = "messenger", person: str = PSID, **author: Any) -> Inquiry:
    return Inquiry(
        id=f"m_{person}",
        channel=channel,
        kind="private",
        conversation_id=person,
        author={"id": person, "handle": person, **author},
        text="my order never came",
        created_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )


def names_with(handler: Any, **options: Any) -> ProfileNames:
    settings = PlatformSettings(meta_graph_base=GRAPH, meta_page_token=TOKEN)
    return ProfileNames(settings, transport=httpx.MockTransport(handler), **options)


def name_of(names: ProfileNames, inquiry: Inquiry) -> str | None:
    [named] = asyncio.run(names.named([inquiry]))
    return named.author.name


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    running = ThreadedServer(fake_platform_app((TOKEN,)), free_port(), "fake", "critical").start()
    try:
        yield running.url
    finally:
        running.stop()


def test_the_fake_platform_serves_a_made_up_name_per_id(fake: str) -> None:
    settings = PlatformSettings(meta_graph_base=f"{fake}/v21.0", meta_page_token=TOKEN)
    names = ProfileNames(settings)
    messenger, instagram = asyncio.run(names.named([dm(), dm("instagram", "1784")]))
    assert messenger.author.name == made_up_profile(PSID)["name"]
    assert instagram.author.name == made_up_profile("1784")["name"]
    assert instagram.author.handle == made_up_profile("1784")["username"]  # not the IGSID


def test_messenger_answer_from_meta_docs_gives_first_and_last_name() -> None:
    # developers.facebook.com, Messenger Platform, User Profile API: the response example.
    answer = {"first_name": "Peter", "last_name": "Chang", "profile_pic": "https://…", "id": PSID}
    asked: list[httpx.Request] = []

    def graph(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, json=answer)

    assert name_of(names_with(graph), dm()) == "Peter Chang"
    assert asked[0].url.path == f"/v21.0/{PSID}"
    assert asked[0].url.params["fields"] == "first_name,last_name,name"
    assert asked[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json={"error": {"message": "(#100) No profile", "code": 100}}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, json={"id": PSID, "name": None}),  # Instagram: name may be null
        httpx.Response(200, json={"id": PSID, "name": PSID}),  # an id is not a name
    ],
)
def test_no_profile_leaves_the_name_unknown_and_is_not_asked_again(answer: httpx.Response) -> None:
    calls: list[int] = []

    def graph(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return answer

    names = names_with(graph)
    assert name_of(names, dm()) is None
    assert name_of(names, dm()) is None
    assert len(calls) == 1  # the miss is cached


def test_a_timeout_leaves_the_name_unknown() -> None:
    def graph(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    assert name_of(names_with(graph), dm()) is None


def test_a_rate_limit_pauses_look_ups() -> None:
    now = [1000.0]
    calls: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(400, json={"error": {"message": "limit", "code": 32}})
        return httpx.Response(200, json={"name": "Robin"})

    names = names_with(graph, clock=lambda: now[0])
    assert name_of(names, dm(person="1")) is None
    assert name_of(names, dm(person="2")) is None  # paused: Graph is not asked
    assert len(calls) == 1
    now[0] += 61
    assert name_of(names, dm(person="1")) == "Robin"  # a rate limit is not cached as a miss


def test_usage_at_ninety_percent_pauses_too() -> None:
    calls: list[int] = []

    def graph(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        usage = '{"call_count": 95, "total_cputime": 10, "total_time": 12}'
        return httpx.Response(200, json={"name": "Robin"}, headers={"X-App-Usage": usage})

    names = names_with(graph)
    assert name_of(names, dm(person="1")) == "Robin"
    assert name_of(names, dm(person="2")) is None
    assert len(calls) == 1


def test_the_cache_is_bounded_and_forgets_the_oldest() -> None:
    calls: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"name": "Robin"})

    names = names_with(graph, limit=3)
    for person in ("1", "2", "3", "4", "1"):
        name_of(names, dm(person=person))
    assert len(names._cache) == 3
    assert calls.count("/v21.0/1") == 2  # forgotten when "4" came, asked again


def test_only_dm_customers_without_a_name_are_looked_up() -> None:
    def graph(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no look-up expected")

    names = names_with(graph)
    named = dm(name="Sam")
    public = dm().model_copy(update={"kind": "public"})
    x_dm = Inquiry.model_validate(
        {**dm("x").model_dump(), "author": {"id": "42", "handle": "sam_k"}}
    )
    assert asyncio.run(names.named([named, public, x_dm])) == [named, public, x_dm]
    no_token = ProfileNames(PlatformSettings(meta_graph_base=GRAPH))
    assert asyncio.run(no_token.named([dm()])) == [dm()]


def test_templates_never_call_a_customer_by_their_id() -> None:
    assert display_name(dm().author, "there") == "there"
    assert display_name(dm(name="Peter Chang").author, "there") == "Peter Chang"
    x_author = dm().author.model_copy(update={"id": "42", "handle": "sam_k"})
    assert display_name(x_author, "there") == "sam_k"  # a handle is a name people know
