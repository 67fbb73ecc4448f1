"""The agent API: tokens and roles, the queue and one inquiry, the actions as the token's agent,
and errors as JSON with the right status. What needs no Temporal runs without it; the rest
shares one dev server and worker for the module (a loop in a thread keeps them alive)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import typer
from temporalio.client import Client

from careflow.cli import api as api_cli
from careflow.engine.ruleset import load_ruleset
from careflow.errors import CareflowError
from careflow.http.app import create_app
from careflow.http.tokens import Caller, TokenError, digest_hex, load_tokens, parse_env
from careflow.settings import ApiTokenSettings, Settings, TemporalSettings
from careflow.temporal import inquiries
from careflow.temporal.inquiries import list_open
from careflow.temporal.intake import intake
from careflow.temporal.worker import build_worker
from tests.conftest import DEFAULT_PACK
from tests.harness import CUSTOMERS, dev_server, example, round_the_clock_pack

TOKENS = "tok-ana=agent:Ana,tok-sam=supervisor:Sam,tok-audra=auditor:Audra"
ANA = {"Authorization": "Bearer tok-ana"}
SAM = {"Authorization": "Bearer tok-sam"}
AUDRA = {"Authorization": "Bearer tok-audra"}
RULESET = load_ruleset(DEFAULT_PACK)
T = TypeVar("T")


async def never_connect() -> Client:
    raise AssertionError("the agent API reached for Temporal")


async def request(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        return await http.request(method, path, **kwargs)


def call(method: str, path: str, settings: Settings | None = None, **kwargs: Any) -> httpx.Response:
    app = create_app(
        settings or Settings(api=ApiTokenSettings(tokens=TOKENS)), never_connect, RULESET
    )
    return asyncio.run(request(app, method, path, **kwargs))


# ---------------------------------------------------------------------- tokens


def test_tokens_from_the_environment_and_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text("# the night shift\n\n  tok-nia = agent : Nia Okafor \n", encoding="utf-8")
    tokens = load_tokens(ApiTokenSettings(tokens=TOKENS + ",", tokens_file=str(path)))
    assert len(tokens) == 4
    assert tokens.caller("tok-sam") == Caller("Sam", "supervisor")
    assert tokens.caller("tok-nia") == Caller("Nia Okafor", "agent")
    assert tokens.caller("tok-") is None
    assert tokens.caller("") is None
    assert "tok-" not in repr(tokens)
    assert "tok-" not in repr(Settings(api=ApiTokenSettings(tokens=TOKENS)))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "hunter2=admin:Bob",
            "tokens.txt:3: unknown role 'admin': use agent, supervisor, auditor or reviewer",
        ),
        ("hunter2", "tokens.txt:3: expected token=role:name"),
        ("=agent:Bob", "tokens.txt:3: expected token=role:name"),
        ("hunter2=agent", "tokens.txt:3: expected token=role:name, the name is missing"),
        ("hunter2=agent:", "tokens.txt:3: expected token=role:name, the name is missing"),
    ],
)
def test_a_bad_token_line_is_named_by_file_and_line_never_by_token(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text(f"ok=agent:Ana\n# comment\n{line}\n", encoding="utf-8")
    with pytest.raises(TokenError) as raised:
        load_tokens(ApiTokenSettings(tokens_file=str(path)))
    assert expected in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_bad_environment_entries_and_repeated_tokens(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="CAREFLOW_API_TOKENS entry 2: unknown role 'boss'"):
        parse_env("a=agent:Ana,b=boss:Bo")
    with pytest.raises(TokenError, match="the same token is given for agent:Ana and auditor:Au"):
        load_tokens(ApiTokenSettings(tokens="same=agent:Ana,same=auditor:Au"))
    with pytest.raises(TokenError, match="cannot read the token file"):
        load_tokens(ApiTokenSettings(tokens_file=str(tmp_path / "missing.txt")))


def test_careflow_api_refuses_to_start_with_a_bad_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREFLOW_API_TOKENS", "good=agent:Ana,hunter2=root:Eve")
    with pytest.raises(typer.Exit):
        api_cli.check_tokens(Settings.from_env())
    err = capsys.readouterr().err
    assert (
        err
        == "error: CAREFLOW_API_TOKENS entry 2: unknown role 'root': use agent, supervisor, auditor or reviewer\n"
    )


# ---------------------------------------------------------------------- refusals without Temporal


def test_without_tokens_the_agent_api_is_off_with_503() -> None:
    for method, path in [("GET", "/queue"), ("POST", "/inquiries/x/ack")]:
        answer = call(method, path, Settings(), headers=ANA)
        assert answer.status_code == 503
        assert answer.json()["missing_variable"] == "CAREFLOW_API_TOKENS"
        assert "CAREFLOW_API_TOKENS is not set" in answer.json()["error"]


def test_no_token_or_a_wrong_one_is_401() -> None:
    for headers in [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic tok-ana"}]:
        answer = call("GET", "/queue", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "error" in answer.json()


def test_roles_are_enforced_before_anything_is_asked() -> None:
    audited = call("POST", "/inquiries/x/reply", headers=AUDRA, json={"text": "hi"})
    assert audited.status_code == 403
    assert audited.json() == {"error": "the auditor role may not act on inquiries (reply)"}
    other = call("POST", "/inquiries/x/assign", headers=ANA, json={"assignee": "Bob"})
    assert other.status_code == 403
    assert "only to themselves" in other.json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("reply", {"text": "   "}, "text"),
        ("reply", {}, "text"),
        ("reply", {"text": "hi", "agent": "Mallory"}, "agent"),  # the token says who acts
        ("reply", {"text": "hi", "private": "yes"}, "private"),
        ("resolve", {"code": ""}, "code"),
        ("escalate", {"to": "ceo"}, "to"),
        ("ack", [], "(top level)"),
    ],
)
def test_a_malformed_body_is_422_naming_the_field(path: str, body: Any, field: str) -> None:
    answer = call("POST", f"/inquiries/x/{path}", headers=SAM, json=body)
    assert answer.status_code == 422
    assert field in [problem["field"] for problem in answer.json()["problems"]]


def test_not_json_and_unknown_filters_are_422() -> None:
    answer = call("POST", "/inquiries/x/reply", headers=ANA, content=b"{nope")
    assert answer.status_code == 422
    unknown = call("GET", "/queue?categroy=billing", headers=ANA)
    assert unknown.status_code == 422
    assert unknown.json()["problems"] == [{"field": "categroy", "message": "not a filter"}]


def test_temporal_unreachable_is_503() -> None:
    async def down() -> Client:
        raise CareflowError("cannot reach Temporal at localhost:1 (is `careflow up` running?)")

    app = create_app(Settings(api=ApiTokenSettings(tokens=TOKENS)), down, RULESET)
    answer = asyncio.run(request(app, "GET", "/inquiries/inquiry-x-1", headers=AUDRA))
    assert answer.status_code == 503
    assert "cannot reach Temporal" in answer.json()["error"]


def test_openapi_and_an_offline_swagger_ui() -> None:
    spec = call("GET", "/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"/queue", "/inquiries/{id}", "/inquiries/{id}/reply"} <= set(spec["paths"])
    reply = spec["paths"]["/inquiries/{id}/reply"]["post"]
    assert reply["security"] == [{"bearer": []}]
    assert {"401", "403", "409", "422"} <= {str(code) for code in reply["responses"]}
    assert "ReplyBody" in spec["components"]["schemas"]

    page = call("GET", "/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="/docs/static/swagger-ui-bundle.js"' in page.text
    assert '"/openapi.json"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    script = call("GET", "/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert call("GET", "/docs/static/swagger-ui.css").status_code == 200


# ---------------------------------------------------------------------- on a real dev server


class Loop:
    """An event loop in a thread: the dev server, worker and client live on it between tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@dataclass
class Server:
    loop: Loop
    client: Client
    app: Any
    ids: dict[str, str]  # example name -> workflow id

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run(request(self.app, method, path, **kwargs))

    def queue_ids(self, path: str, until: Callable[[list[str]], bool]) -> list[str]:
        """The queue's ids once ``until`` holds (the search attributes trail each action)."""
        for _ in range(100):
            answer = self.call("GET", path, headers=AUDRA)
            assert answer.status_code == 200, answer.text
            ids = [row["id"] for row in answer.json()]
            if until(ids):
                break
            time.sleep(0.1)
        return ids

    def run(self, work: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await work

        return self.loop.run(wrapped())


async def _until_indexed(client: Client, ids: set[str]) -> None:
    """Triage sets the search attributes shortly after start; the queue reads those."""
    for _ in range(200):
        rows = {row.id: row for row in (await list_open(client)).rows}
        if ids <= set(rows) and all(rows[i].category and rows[i].next_due for i in ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the inquiries never showed up triaged in the queue")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("agent-api")
    pack = round_the_clock_pack(home)
    settings = Settings(
        rules=str(pack),
        home=home,
        temporal=TemporalSettings(task_queue="agent-api-test"),
        api=ApiTokenSettings(tokens=TOKENS),
    )
    loop = Loop()
    stack = AsyncExitStack()

    async def start() -> Server:
        env = await stack.enter_async_context(await dev_server())
        await stack.enter_async_context(build_worker(env.client, settings))

        async def factory() -> Client:
            return env.client

        ids: dict[str, str] = {}
        now = datetime.now(UTC)
        for name in ("question", "billing", "warranty"):
            result = await intake(
                env.client,
                settings.temporal.task_queue,
                example(name, now),
                load_ruleset(pack),
                customers=CUSTOMERS,
            )
            assert result.workflow_id
            ids[name] = result.workflow_id
        await _until_indexed(env.client, set(ids.values()))
        return Server(loop, env.client, create_app(settings, factory, load_ruleset(pack)), ids)

    try:
        yield loop.run(start())
    finally:
        loop.run(stack.aclose())
        loop.close()


def test_the_queue_lists_filters_and_orders_by_next_due(server: Server) -> None:
    answer = server.call("GET", "/queue", headers=AUDRA)
    assert answer.status_code == 200, answer.text
    rows = [row for row in answer.json() if row["id"] in server.ids.values()]
    assert len(rows) == 3
    assert {"id", "channel", "author", "text", "category", "priority", "step", "agent"} <= set(
        rows[0]
    )
    dues = [row["next_due"] for row in answer.json()]
    known = [datetime.fromisoformat(due) for due in dues if due is not None]
    assert known == sorted(known)
    assert None not in dues[: len(known)]  # none last

    billing = server.call("GET", "/queue?category=billing", headers=AUDRA).json()
    assert [row["id"] for row in billing] == [server.ids["billing"]]
    assert billing[0]["queue"] == "billing"
    product = server.call("GET", "/queue?queue=product&channel=instagram", headers=ANA).json()
    assert [row["id"] for row in product] == [server.ids["warranty"]]
    quoted = server.call("GET", "/queue", params={"category": "billing' OR 'a'='a"}, headers=ANA)
    assert quoted.json() == []  # a value is an escaped literal in the query, never a clause
    assert quoted.status_code == 200


def test_the_queue_pages_and_says_where_the_next_page_is(server: Server) -> None:
    seen: list[str] = []
    path = "/queue?page_size=1"
    for _ in range(20):
        answer = server.call("GET", path, headers=ANA)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) <= 1
        seen += [row["id"] for row in answer.json()]
        token = answer.headers.get("Next-Page-Token")
        if token is None:
            assert "Link" not in answer.headers
            break
        assert 'rel="next"' in answer.headers["Link"] and token in answer.headers["Link"]
        path = f"/queue?page_size=1&page={token}"
    mine = [wid for wid in seen if wid in server.ids.values()]
    assert sorted(mine) == sorted(server.ids.values()) and len(seen) == len(set(seen))
    unassigned = server.call("GET", "/queue?unassigned=true", headers=ANA).json()
    assert all(row["agent"] is None for row in unassigned)
    for bad in (
        "/queue?page_size=0",
        "/queue?page_size=ten",
        "/queue?page=bm90IGEgdG9rZW4",
        "/queue?unassigned=maybe",
        "/queue?agent=Ana&unassigned=true",
    ):
        refused = server.call("GET", bad, headers=ANA)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]


def test_status_of_one_inquiry_and_404_for_an_unknown_id(server: Server) -> None:
    answer = server.call("GET", f"/inquiries/{server.ids['question']}", headers=AUDRA)
    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert status["id"] == server.ids["question"]
    assert status["inquiry"]["text"].startswith("@acme do you have the trail boots")
    assert {"step", "category", "clocks", "messages", "timeline"} <= set(status)

    missing = server.call("GET", "/inquiries/inquiry-x-nobody", headers=AUDRA)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no inquiry with id inquiry-x-nobody"}
    acted = server.call("POST", "/inquiries/inquiry-x-nobody/ack", headers=ANA, json={})
    assert acted.status_code == 404


def test_actions_run_as_the_tokens_agent_and_rejections_are_409(server: Server) -> None:
    wid = server.ids["billing"]
    ack = server.call("POST", f"/inquiries/{wid}/ack", headers=ANA, json={"text": "On it."})
    assert ack.status_code == 200, ack.text
    assert ack.json()["detail"] == "acknowledged"
    again = server.call("POST", f"/inquiries/{wid}/ack", headers=ANA)
    assert again.status_code == 409
    assert again.json()["error"].startswith("the inquiry was already acknowledged at ")

    reply = server.call(
        "POST", f"/inquiries/{wid}/reply", headers=ANA, json={"text": "Refund is on its way."}
    )
    assert reply.status_code == 200, reply.text
    assert "Ana" in reply.json()["text"]  # signed with the token's name

    status = server.run(inquiries.status(server.client, wid))
    assert status.agent == "Ana"
    sent = [m for m in status.messages if m.direction == "out" and m.by == "Ana"]
    assert [m.text.startswith("Refund is on its way.") for m in sent] == [False, True]

    assigned = server.call("POST", f"/inquiries/{wid}/assign", headers=SAM, json={"assignee": "Bo"})
    assert assigned.status_code == 200, assigned.text
    taken = server.call("POST", f"/inquiries/{wid}/assign", headers=ANA)  # agents take it back
    assert taken.status_code == 200, taken.text
    assert server.run(inquiries.status(server.client, wid)).agent == "Ana"

    resolved = server.call("POST", f"/inquiries/{wid}/resolve", headers=ANA, json={"code": "fixed"})
    assert resolved.status_code == 200, resolved.text
    twice = server.call("POST", f"/inquiries/{wid}/resolve", headers=SAM, json={"code": "fixed"})
    assert twice.status_code == 409
    assert twice.json()["error"] == "the inquiry is already resolved (code fixed): reopen it first"
    assert server.queue_ids("/queue?agent=Ana", until=lambda ids: ids == [wid]) == [wid]

    # Who did what: each action's entries name the token's person, role and id, never the token.
    timeline = server.call("GET", f"/inquiries/{wid}", headers=AUDRA).json()["timeline"]
    by = {(e["event"], e["detail"]): e["actor"] for e in timeline}
    sam = by[("assigned", "assigned to Bo by Sam")]
    assert sam == {
        "name": "Sam",
        "role": "supervisor",
        "channel": "api",
        "token_id": digest_hex("tok-sam")[:12],
        "authenticated": True,
    }
    assert (
        by[("acknowledged", "Ana acknowledged the inquiry")]["token_id"]
        == digest_hex("tok-ana")[:12]
    )
    assert "tok-ana" not in json.dumps(timeline) and "tok-sam" not in json.dumps(timeline)


def test_an_action_on_a_closed_inquiry_is_409(server: Server) -> None:
    async def start_and_terminate() -> str:
        inquiry = example("late-delivery", datetime.now(UTC))
        pack = load_ruleset(DEFAULT_PACK)
        settings = Settings(temporal=TemporalSettings(task_queue="agent-api-test"))
        result = await intake(
            server.client, settings.temporal.task_queue, inquiry, pack, customers=CUSTOMERS
        )
        assert result.workflow_id
        await server.client.get_workflow_handle(result.workflow_id).terminate("test")
        return result.workflow_id

    wid = server.run(start_and_terminate())
    answer = server.call("POST", f"/inquiries/{wid}/reply", headers=ANA, json={"text": "Hello?"})
    assert answer.status_code == 409
    assert answer.json() == {"error": f"inquiry {wid} is closed"}
