"""The platform adapter against the fake platform, served by uvicorn on a free port.

Unit tests drive ``PlatformAdapter.deliver`` directly and read what the fake recorded over HTTP
(``GET /_fake/posts``); two workflow tests run an inquiry on the time-skipping server with the
fake failing first (500s, a 429 storm) and check the reply is posted exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.exceptions import ApplicationError

from activities.outbound import Outbound
from activities.platform import PlatformAdapter, retry_after, sign
from careflow.config import Settings
from careflow.fake_platform import user_id
from careflow.worker import channel_adapter
from tests.harness import careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest

TOKEN = "test-token-0123456789"
SECRET = "webhook-secret"
POST_ID = "1860000000000000014"


@dataclass
class Fake:
    url: str

    def posts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_fake/posts")
        response.raise_for_status()
        posts: list[dict[str, Any]] = response.json()
        return posts

    def fault(self, **fault: Any) -> None:
        httpx.post(f"{self.url}/_fake/faults", json=fault).raise_for_status()

    def pending(self) -> int:
        count: int = httpx.get(f"{self.url}/_fake/faults").json()["pending"]
        return count

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_fake/posts").raise_for_status()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[Fake]:
    from careflow.fake_platform import fake_platform_app

    port = free_port()
    config = uvicorn.Config(
        fake_platform_app((TOKEN,)), host="127.0.0.1", port=port, log_level="critical"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "the fake platform did not start"
        time.sleep(0.02)
    try:
        yield Fake(f"http://127.0.0.1:{port}")
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def fake(server: Fake) -> Fake:
    server.clear()
    return server


def settings(fake: Fake, home: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home,
        "adapter": "platform",
        "x_api_base": fake.url,
        "x_bearer_token": TOKEN,
        "meta_graph_base": f"{fake.url}/v21.0",
        "meta_page_token": TOKEN,
        "notify_webhook_url": f"{fake.url}/hooks/care",
        "notify_webhook_secret": SECRET,
    }
    return Settings(**{**values, **changes})


def outbound(**changes: Any) -> Outbound:
    values: dict[str, Any] = {
        "key": "inquiry-x-1/acknowledge/1",
        "kind": "reply",
        "channel": "x",
        "conversation_id": POST_ID,
        "in_reply_to": POST_ID,
        "recipient": "hikerjules",
    }
    return Outbound(**{**values, **changes})


def deliver(adapter: PlatformAdapter, message: Outbound, text: str) -> Any:
    return asyncio.run(adapter.deliver(message, text))


def failure(adapter: PlatformAdapter, message: Outbound, text: str = "hello") -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        deliver(adapter, message, text)
    return caught.value


def test_an_x_reply_is_a_post_in_reply_to_the_customers(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(), "Hi Jules, yes we do ^Ana")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/2/tweets", "tweet")
    assert post["in_reply_to"] == POST_ID
    assert post["text"] == "Hi Jules, yes we do ^Ana"
    assert (delivery.id, delivery.duplicate) == (post["id"], False)


def test_an_x_private_reply_is_a_dm_to_the_customers_user_id(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(private=True), "Could you send the order number?")
    [post] = fake.posts()
    assert post["path"] == f"/2/dm_conversations/with/{user_id('hikerjules')}/messages"
    assert (post["kind"], post["text"]) == ("dm", "Could you send the order number?")
    assert delivery.id == post["id"]  # the dm_event_id


def test_a_facebook_reply_is_a_comment_on_the_comment(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    message = outbound(channel="facebook", in_reply_to="123_456")
    delivery = deliver(adapter, message, "Sorry about that")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/123_456/comments", "comment")
    assert (post["in_reply_to"], post["text"]) == ("123_456", "Sorry about that")
    assert delivery.id == post["id"]


def test_an_instagram_reply_uses_the_replies_edge(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    deliver(adapter, outbound(channel="instagram", in_reply_to="1789"), "Thanks Jo")
    assert [post["path"] for post in fake.posts()] == ["/v21.0/1789/replies"]


def test_a_messenger_private_reply_is_a_send_api_message(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    message = outbound(channel="facebook", private=True, conversation_id="psid-40005")
    delivery = deliver(adapter, message, "Here is your return label")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/me/messages", "message")
    assert (post["recipient"], post["messaging_type"]) == ("psid-40005", "RESPONSE")
    assert post["text"] == "Here is your return label"
    assert delivery.id == f"m_{post['id']}"  # the message_id


def test_a_notification_is_signed_slack_json(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    message = outbound(kind="notification", target="supervisors", key="inquiry-x-1/received/2")
    deliver(adapter, message, "High-reach post on x by @techreviewdan")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/hooks/care", "webhook")
    assert json.loads(post["body"]) == {"text": "High-reach post on x by @techreviewdan"}
    expected = hmac.new(SECRET.encode(), post["body"].encode(), hashlib.sha256).hexdigest()
    assert post["headers"]["x-careflow-signature"] == f"sha256={expected}"
    assert post["headers"]["x-careflow-key"] == "inquiry-x-1/received/2"
    assert sign(SECRET, post["body"].encode()) == f"sha256={expected}"


def test_a_notification_without_a_webhook_is_rejected(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path, notify_webhook_url=None))
    error = failure(adapter, outbound(kind="escalation", target="supervisor"))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "CAREFLOW_NOTIFY_WEBHOOK_URL" in error.message
    assert fake.posts() == []


def test_a_429_is_retried_after_retry_after(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    fake.fault(status=429, count=1, retry_after=7)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformRateLimited", False)
    assert error.next_retry_delay == timedelta(seconds=7)
    assert fake.posts() == []
    deliver(adapter, outbound(), "hello")  # the storm is over
    assert len(fake.posts()) == 1


def test_retry_after_reads_seconds_dates_and_xs_reset_header() -> None:
    now = 1_800_000_000.0
    assert retry_after({"retry-after": "12"}, now) == timedelta(seconds=12)
    date = formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after": date}, now) == timedelta(seconds=30)
    assert retry_after({"x-rate-limit-reset": str(int(now) + 90)}, now) == timedelta(seconds=90)
    assert retry_after({}, now) == timedelta(seconds=1)
    assert retry_after({"retry-after": "86400"}, now) == timedelta(minutes=15)


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_retryable(fake: Fake, tmp_path: Path, status: int) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    fake.fault(status=status, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert str(status) in error.message


def test_a_wrong_token_is_rejected_for_good(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path, x_bearer_token="revoked-token-xxxxxxxx"))
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "401" in error.message and "revoked" not in error.message
    assert fake.posts() == []


def test_a_missing_token_names_the_setting(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path, meta_page_token=None))
    error = failure(adapter, outbound(channel="facebook"))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "CAREFLOW_META_PAGE_TOKEN" in error.message


def test_a_reply_too_long_for_x_is_rejected_before_posting(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    error = failure(adapter, outbound(), "x" * 281)
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "281 characters" in error.message
    assert fake.posts() == []


def test_the_fake_refuses_a_post_over_280_characters_like_x(fake: Fake) -> None:
    response = httpx.post(
        f"{fake.url}/2/tweets",
        json={"text": "x" * 281},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["detail"]


def test_the_same_key_twice_is_posted_once(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    first = deliver(adapter, outbound(), "hello")
    again = deliver(adapter, outbound(), "hello")
    # Another worker process, the same $CAREFLOW_HOME: the record is on disk.
    other = deliver(PlatformAdapter(settings(fake, tmp_path)), outbound(), "hello")
    assert len(fake.posts()) == 1
    assert (again.id, again.duplicate) == (first.id, True)
    assert (other.id, other.duplicate) == (first.id, True)


def test_a_timeout_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path), timeout=httpx.Timeout(0.3))
    fake.fault(delay=1.0, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "in time" in error.message


def test_a_dropped_connection_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))
    fake.fault(drop=True, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "unreachable" in error.message  # no answer at all, not a 5xx
    assert fake.posts() == []


def test_an_answer_lost_after_the_post_is_the_documented_window(fake: Fake, tmp_path: Path) -> None:
    """The platform took the post but its answer never came: the retry posts again. This is the
    window the module docstring owns up to (no platform idempotency key to close it)."""
    adapter = PlatformAdapter(settings(fake, tmp_path))
    fake.fault(drop="after", count=1)
    failure(adapter, outbound())
    deliver(adapter, outbound(), "hello")
    assert len(fake.posts()) == 2


def test_settings_read_the_platform_variables_and_hide_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREFLOW_ADAPTER", "platform")
    monkeypatch.setenv("CAREFLOW_X_API_BASE", "http://127.0.0.1:8090")
    monkeypatch.setenv("CAREFLOW_X_BEARER_TOKEN", "x-secret-token")
    monkeypatch.setenv("CAREFLOW_META_GRAPH_BASE", "http://127.0.0.1:8090/v21.0")
    monkeypatch.setenv("CAREFLOW_META_PAGE_TOKEN", "meta-secret-token")
    monkeypatch.setenv("CAREFLOW_NOTIFY_WEBHOOK_URL", "http://hooks.example/secret-path")
    monkeypatch.setenv("CAREFLOW_NOTIFY_WEBHOOK_SECRET", "hmac-secret")
    loaded = Settings.from_env()
    assert loaded.x_api_base == "http://127.0.0.1:8090"
    assert loaded.meta_graph_base == "http://127.0.0.1:8090/v21.0"
    assert (loaded.x_bearer_token, loaded.meta_page_token) == (
        "x-secret-token",
        "meta-secret-token",
    )
    assert loaded.notify_webhook_url == "http://hooks.example/secret-path"
    assert loaded.notify_webhook_secret == "hmac-secret"
    shown = repr(loaded)
    for secret in ("x-secret-token", "meta-secret-token", "secret-path", "hmac-secret"):
        assert secret not in shown


def test_careflow_adapter_platform_picks_the_platform_adapter(tmp_path: Path) -> None:
    adapter = channel_adapter(Settings(adapter="platform", home=tmp_path))
    assert isinstance(adapter, PlatformAdapter)
    assert (tmp_path / "deliveries.sqlite3").exists()


def _reply_once(fake: Fake, tmp_path: Path, **fault: Any) -> None:
    adapter = PlatformAdapter(settings(fake, tmp_path))

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            await h.status(handle)
            await asyncio.to_thread(fake.fault, **fault)
            result = await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="hello")
            )
            assert result.text == "hello ^Ana"
            status = await h.status(handle)
            assert status.escalations == []
            replies = [p for p in await asyncio.to_thread(fake.posts) if p["kind"] == "tweet"]
            assert [(p["text"], p["in_reply_to"]) for p in replies] == [("hello ^Ana", POST_ID)]
            assert status.messages[-1].id == replies[0]["id"]
            assert await asyncio.to_thread(fake.pending) == 0  # every fault was met and retried

    asyncio.run(scenario())


def test_a_platform_failing_twice_gets_the_reply_posted_once(fake: Fake, tmp_path: Path) -> None:
    _reply_once(fake, tmp_path, status=500, count=2)


def test_a_rate_limit_storm_gets_the_reply_posted_once(fake: Fake, tmp_path: Path) -> None:
    _reply_once(fake, tmp_path, status=429, count=3, retry_after=1)
