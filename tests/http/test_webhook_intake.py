"""The signed webhook intake: signatures, platform payloads normalized to inquiries, the firehose
filter and signal-with-start on a real dev server, and no 5xx (nor any Temporal call) for
anything a stranger can send."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from careflow.engine.ruleset import load_ruleset
from careflow.errors import CareflowError
from careflow.http.app import create_app
from careflow.http.webhooks import GENERIC_SIGNATURE, META_SIGNATURE, X_SIGNATURE
from careflow.settings import BrandAccounts, Settings, TemporalSettings, WebhookSecrets
from careflow.temporal import inquiries
from careflow.temporal.worker import build_worker
from tests.channels.payloads import (
    BRAND_X,
    PAGE,
    instagram_delivery,
    meta_page_delivery,
    tweet,
    x_delivery,
)
from tests.conftest import DEFAULT_PACK
from tests.harness import dev_server, example, round_the_clock_pack
from workflows.state import InquiryStatus

GENERIC_SECRET = "generic-secret-0123456789"
X_SECRET = "x-consumer-secret-0123456789"
META_SECRET = "meta-app-secret-0123456789"
VERIFY_TOKEN = "meta-verify-token"
SECRETS = Settings(
    webhooks=WebhookSecrets(
        generic=GENERIC_SECRET,
        x_consumer_secret=X_SECRET,
        meta_app_secret=META_SECRET,
        meta_verify_token=VERIFY_TOKEN,
    )
)
RULESET = load_ruleset(DEFAULT_PACK)
POST_ROUTES = ("/webhooks/generic", "/webhooks/x", "/webhooks/meta")


def hex_signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def base64_signed(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def signed(path: str, body: bytes) -> dict[str, str]:
    """The headers the platform behind ``path`` would send with ``body``."""
    if path == "/webhooks/x":
        return {X_SIGNATURE: base64_signed(X_SECRET, body)}
    if path == "/webhooks/meta":
        return {META_SIGNATURE: hex_signed(META_SECRET, body)}
    return {GENERIC_SIGNATURE: hex_signed(GENERIC_SECRET, body)}


async def never_connect() -> Client:
    raise AssertionError("the intake reached for Temporal")


async def request(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        return await http.request(method, path, **kwargs)


def call(method: str, path: str, app_settings: Settings = SECRETS, **kwargs: Any) -> httpx.Response:
    app = create_app(app_settings, never_connect, RULESET)
    return asyncio.run(request(app, method, path, **kwargs))


# ---------------------------------------------------------------------- without a server


def test_x_crc_answers_the_challenge_with_the_consumer_secret() -> None:
    answer = call("GET", "/webhooks/x", params={"crc_token": "9b4507b3-9040-4669"})
    assert answer.status_code == 200
    digest = hmac.new(X_SECRET.encode(), b"9b4507b3-9040-4669", hashlib.sha256).digest()
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}
    assert call("GET", "/webhooks/x").status_code == 400


def test_meta_verification_echoes_the_challenge_only_for_the_verify_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201"}
    answer = call("GET", "/webhooks/meta", params=query)
    assert answer.status_code == 200
    assert answer.text == "1158201"
    assert answer.headers["content-type"].startswith("text/plain")
    wrong = call("GET", "/webhooks/meta", params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    assert call("GET", "/webhooks/meta", params={**query, "hub.mode": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "variable"),
    [
        ("POST", "/webhooks/generic", "CAREFLOW_WEBHOOK_SECRET"),
        ("GET", "/webhooks/x", "CAREFLOW_X_CONSUMER_SECRET"),
        ("POST", "/webhooks/x", "CAREFLOW_X_CONSUMER_SECRET"),
        ("GET", "/webhooks/meta", "CAREFLOW_META_VERIFY_TOKEN"),
        ("POST", "/webhooks/meta", "CAREFLOW_META_APP_SECRET"),
    ],
)
def test_a_webhook_without_its_secret_answers_503_naming_the_variable(
    method: str, path: str, variable: str
) -> None:
    answer = call(method, path, app_settings=Settings(), content=b"{}")
    assert answer.status_code == 503
    assert answer.json()["missing_variable"] == variable
    assert variable in answer.json()["error"]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_missing_or_forged_signature_is_401_and_reaches_nothing(path: str) -> None:
    body = json.dumps({"object": "page", "entry": []}).encode()
    missing = call("POST", path, content=body)
    assert missing.status_code == 401
    assert "missing" in missing.json()["error"]
    forged_headers = signed(path, body + b" ")  # signed for another body
    forged = call("POST", path, content=body, headers=forged_headers)
    assert forged.status_code == 401
    assert "does not match" in forged.json()["error"]


def test_bad_payloads_say_what_is_wrong_and_start_nothing() -> None:
    def post(path: str, body: bytes) -> httpx.Response:
        return call("POST", path, content=body, headers=signed(path, body))

    not_json = post("/webhooks/generic", b"{not json")
    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["error"]

    inquiry = json.loads(example("question", datetime.now(UTC)).model_dump_json())
    del inquiry["author"]["handle"]
    inquiry["kind"] = "shout"
    invalid = post("/webhooks/generic", json.dumps(inquiry).encode())
    assert invalid.status_code == 422
    fields = {problem["field"] for problem in invalid.json()["problems"]}
    assert fields == {"author.handle", "kind"}

    endless = json.loads(example("question", datetime.now(UTC)).model_dump_json())
    endless["conversation_id"] = "c" * 1000
    assert post("/webhooks/generic", json.dumps(endless).encode()).status_code == 422
    lone_surrogate = json.dumps(inquiry).replace('"kind"', '"\\ud800"').encode()
    assert post("/webhooks/generic", lone_surrogate).status_code == 400
    assert post("/webhooks/x", b'{"hello": 1}').status_code == 400
    unknown = post("/webhooks/meta", b'{"object": "whatsapp_business_account", "entry": []}')
    assert unknown.status_code == 400
    # A list where the object's name goes was a TypeError (a 500) once the fuzzer found it.
    assert post("/webhooks/meta", b'{"object": ["page"], "entry": []}').status_code == 400
    # A conversation id too long for a workflow id: a post, or the brand's answer in it.
    endless_thread = example("question", datetime.now(UTC), conversation_id="9" * 1001)
    too_long = post("/webhooks/generic", endless_thread.model_dump_json().encode())
    assert too_long.status_code == 422 and "too long" in too_long.json()["error"]
    answer = tweet("1870000000000000002", BRAND_X, "acme", "@maya_r on it", datetime.now(UTC))
    answer["conversation_id_str"] = "9" * 1001
    echo = json.dumps({"for_user_id": BRAND_X, "tweet_create_events": [answer]}).encode()
    refused_echo = post("/webhooks/x", echo)  # X's events are isolated: a problem in a 200
    assert refused_echo.status_code == 200 and "too long" in refused_echo.text

    broken = x_delivery(datetime.now(UTC))
    broken["tweet_create_events"][0]["created_at"] = "yesterday"
    # The events beside it would be taken (Temporal needed): only the broken one is sent.
    del broken["direct_message_events"]
    broken["tweet_create_events"] = broken["tweet_create_events"][:1]
    answer = post("/webhooks/x", json.dumps(broken).encode())
    assert answer.status_code == 200
    assert [p["where"] for p in answer.json()["problems"]] == ["tweet_create_events[0]"]

    # Meta's events are read one by one: a comment without its author is a problem, listed in
    # a 200 beside the events taken (here none, so Temporal is never asked).
    no_author = meta_page_delivery(datetime.now(UTC))
    del no_author["entry"][0]["changes"][0]["value"]["from"]
    del no_author["entry"][0]["messaging"]
    answer = post("/webhooks/meta", json.dumps(no_author).encode())
    assert answer.status_code == 200
    assert answer.json()["problems"] == [
        {
            "id": None,
            "where": "entry[0].changes[0]",
            "message": "entry[0].changes[0].value.from: expected an object, got null",
        }
    ]


def test_deliveries_without_inquiries_are_answered_without_temporal() -> None:
    body = json.dumps({"for_user_id": BRAND_X, "follow_events": [{"type": "follow"}]}).encode()
    answer = call("POST", "/webhooks/x", content=body, headers=signed("/webhooks/x", body))
    assert answer.status_code == 200
    assert answer.json() == {
        "received": 1,
        "started": [],
        "continued": [],
        "duplicates": [],
        "brand_posts": [],
        "changed": [],
        "rated": [],
        "dropped": [],
        "ignored": [{"id": None, "reason": "follow_events: not inquiries"}],
        "problems": [],
        "clamped": [],
    }


def test_temporal_unreachable_is_503() -> None:
    async def unreachable() -> Client:
        raise CareflowError("cannot reach Temporal at localhost:1 (is `careflow up` running?)")

    body = example("question", datetime.now(UTC)).model_dump_json().encode()
    app = create_app(SECRETS, unreachable, RULESET)
    answer = asyncio.run(
        request(app, "POST", "/webhooks/generic", content=body, headers=signed("", body))
    )
    assert answer.status_code == 503
    assert "cannot reach Temporal" in answer.json()["error"]


def test_openapi_describes_the_routes() -> None:
    answer = call("GET", "/openapi.json")
    assert answer.status_code == 200
    spec = answer.json()
    assert spec["openapi"].startswith("3.")
    assert {"/webhooks/generic", "/webhooks/x", "/webhooks/meta"} <= set(spec["paths"])
    assert set(spec["paths"]["/webhooks/x"]) == {"get", "post"}
    assert "401" in {str(code) for code in spec["paths"]["/webhooks/generic"]["post"]["responses"]}
    assert "Inquiry" in spec["components"]["schemas"]


# ---------------------------------------------------------------------- properties

header_values = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    st.builds(lambda h: f"sha256={h}", st.text("0123456789abcdef", min_size=64, max_size=64)),
    st.builds(
        lambda b: "sha256=" + base64.b64encode(b).decode(), st.binary(min_size=32, max_size=32)
    ),
)
header_names = st.sampled_from(
    [GENERIC_SIGNATURE, X_SIGNATURE, META_SIGNATURE, "content-type", "x-hub-signature", "x-other"]
)
# Keys the normalizers read, so that random JSON often looks like a payload.
PAYLOAD_KEYS = [
    "object",
    "entry",
    "changes",
    "messaging",
    "value",
    "field",
    "from",
    "id",
    "text",
    "message",
    "sender",
    "mid",
    "timestamp",
    "for_user_id",
    "tweet_create_events",
    "direct_message_events",
    "user",
    "id_str",
    "created_at",
    "kind",
    "channel",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(PAYLOAD_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@FUZZ
@given(
    path=st.sampled_from(POST_ROUTES),
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=4),
    configured=st.booleans(),
)
def test_unsigned_deliveries_never_reach_temporal_nor_5xx(
    path: str, body: bytes, headers: dict[str, str], configured: bool
) -> None:
    answer = call(
        "POST",
        path,
        app_settings=SECRETS if configured else Settings(),
        content=body,
        headers=headers,
    )
    assert answer.status_code in ({400, 401, 422} if configured else {503})
    assert not 200 <= answer.status_code < 300  # impossible without a valid signature


@FUZZ
@given(path=st.sampled_from(POST_ROUTES), body=bodies)
def test_signed_garbage_is_4xx_never_5xx(path: str, body: bytes) -> None:
    """Signed bodies get past the signature: whatever they hold, never a 500; Temporal is only
    asked (and here answers 503) if the body really held an inquiry."""
    asked: list[bool] = []

    async def down() -> Client:
        asked.append(True)
        raise CareflowError("cannot reach Temporal")

    app = create_app(SECRETS, down, RULESET)
    answer = asyncio.run(request(app, "POST", path, content=body, headers=signed(path, body)))
    assert answer.status_code in {200, 400, 422, 503}
    assert (answer.status_code == 503) == bool(asked)


# ---------------------------------------------------------------------- on a real dev server


async def not_found(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        return error.status == RPCStatusCode.NOT_FOUND
    return False


def on_dev_server(tmp_path: Path, scenario: Any) -> None:
    pack = round_the_clock_pack(tmp_path)
    worker_settings = Settings(
        rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="intake-api-test")
    )
    app_settings = replace(
        SECRETS,
        rules=str(pack),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="intake-api-test"),
        brand=BrandAccounts(page_id=PAGE),
    )

    async def run() -> None:
        async with await dev_server() as env:

            async def factory() -> Client:
                return env.client

            app = create_app(app_settings, factory, load_ruleset(pack))
            async with build_worker(env.client, worker_settings):
                await scenario(env.client, app, await env.get_current_time())

    asyncio.run(run())


def test_the_generic_webhook_starts_once_drops_spam_and_refuses_forgeries(tmp_path: Path) -> None:
    async def scenario(client: Client, app: Any, now: datetime) -> None:
        async def post(body: bytes, headers: dict[str, str]) -> httpx.Response:
            return await request(app, "POST", "/webhooks/generic", content=body, headers=headers)

        question = example("question", now, conversation_id="c-1001", id="p-1001")
        body = question.model_dump_json().encode()
        first = await post(body, signed("", body))
        assert first.status_code == 200, first.text
        assert first.json() == {
            "received": 1,
            "started": ["inquiry-x-c-1001"],
            "continued": [],
            "duplicates": [],
            "brand_posts": [],
            "changed": [],
            "rated": [],
            "dropped": [],
            "ignored": [],
            "problems": [],
            "clamped": [],
        }
        await until_status(client, "inquiry-x-c-1001", lambda s: True)  # its rules are loaded
        again = await post(body, signed("", body))  # the platform retries the same delivery
        assert again.json()["started"] == []
        assert again.json()["duplicates"] == [{"id": "p-1001", "inquiry": "inquiry-x-c-1001"}]
        status = await inquiries.status(client, "inquiry-x-c-1001")
        assert status.inquiry.text == question.text
        assert [m.text for m in status.messages if m.direction == "in"] == [question.text]
        assert status.duplicate_deliveries == 1

        spam = example("spam-giveaway", now, conversation_id="c-spam").model_dump_json().encode()
        dropped = await post(spam, signed("", spam))
        assert dropped.status_code == 200
        assert dropped.json()["started"] == []
        verdict = dropped.json()["dropped"][0]
        assert (verdict["reason"], verdict["rule"]) == ("spam", "drop-giveaway-spam")
        assert await not_found(client, "inquiry-x-c-spam")

        forged = example("warranty", now, conversation_id="c-forged").model_dump_json().encode()
        refused = await post(forged, {GENERIC_SIGNATURE: hex_signed("not-the-secret", forged)})
        assert refused.status_code == 401
        assert await not_found(client, "inquiry-x-c-forged")

    on_dev_server(tmp_path, scenario)


async def until_status(
    client: Client, wid: str, ready: Callable[[InquiryStatus], bool]
) -> InquiryStatus:
    """The inquiry's status once ``ready`` (a signal is handled on the next workflow task)."""
    for _ in range(100):
        status = await inquiries.status(client, wid)
        if ready(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{wid} never got there: {status}")


def test_x_and_meta_deliveries_start_one_inquiry_per_conversation(tmp_path: Path) -> None:
    async def scenario(client: Client, app: Any, now: datetime) -> None:
        async def deliver(path: str, payload: dict[str, Any]) -> dict[str, Any]:
            body = json.dumps(payload).encode()
            answer = await request(app, "POST", path, content=body, headers=signed(path, body))
            assert answer.status_code == 200, answer.text
            result: dict[str, Any] = answer.json()
            return result

        x = await deliver("/webhooks/x", x_delivery(now))
        assert x["received"] == 4
        assert x["started"] == ["inquiry-x-1870000000000000001", "inquiry-x-41002"]
        assert {item["id"]: item["reason"] for item in x["ignored"]} == {
            "fav-1": "favorite_events: not inquiries",
        }
        # The brand's reply, made in X's own app, is an agent message on the mention's inquiry.
        assert x["brand_posts"] == ["inquiry-x-1870000000000000001"]
        mention = await until_status(
            client,
            "inquiry-x-1870000000000000001",
            lambda s: any(m.kind == "native_reply" for m in s.messages),
        )
        (native,) = [m for m in mention.messages if m.kind == "native_reply"]
        assert (native.direction, native.kind, native.by, native.text) == (
            "out",
            "native_reply",
            "acme",
            "@maya_r sorry, checking now",
        )
        assert mention.clocks["acknowledge"].met_at is not None
        assert mention.inquiry.kind == "public"
        assert mention.inquiry.author.handle == "maya_r"
        assert mention.inquiry.author.followers == 250
        assert mention.inquiry.url == "https://x.com/maya_r/status/1870000000000000001"
        assert mention.inquiry.created_at == now.replace(microsecond=0)
        dm = await inquiries.status(client, "inquiry-x-41002")
        assert dm.inquiry.kind == "private"
        assert dm.inquiry.author.handle == "tom_k"
        assert dm.inquiry.text == "hi, can I change my delivery address?"

        page = await deliver("/webhooks/meta", meta_page_delivery(now))
        assert page["received"] == 4
        assert page["started"] == ["inquiry-facebook-700_801", "inquiry-messenger-62001"]
        assert [item["id"] for item in page["ignored"]] == [f"{PAGE}_700"]
        assert page["brand_posts"] == ["inquiry-messenger-62001"]
        comment = await inquiries.status(client, "inquiry-facebook-700_801")
        assert comment.inquiry.author.name == "Lena Fischer"
        assert comment.inquiry.text == "my order never arrived"
        messenger = await inquiries.status(client, "inquiry-messenger-62001")
        assert messenger.inquiry.kind == "private"

        instagram = await deliver("/webhooks/meta", instagram_delivery(now))
        assert instagram["started"] == ["inquiry-instagram-17900000000000001"]
        ig = await inquiries.status(client, "inquiry-instagram-17900000000000001")
        assert ig.inquiry.author.handle == "kai.designs"

    on_dev_server(tmp_path, scenario)
