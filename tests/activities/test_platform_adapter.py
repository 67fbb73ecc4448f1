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
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.adapters.http import retry_after, sign
from activities.adapters.platform import PlatformAdapter
from activities.adapters.text import split_text, x_length
from activities.types import Outbound
from careflow.devtools.fake_platform import fake_platform_app, user_id
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import PlatformSettings, Settings
from careflow.temporal.worker import channel_adapter
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import EscalateRequest, ReplyRequest, ResolveRequest

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


@pytest.fixture(scope="module")
def server() -> Iterator[Fake]:
    app = fake_platform_app((TOKEN,))
    running = ThreadedServer(app, free_port(), "fake-platform", "critical").start()
    try:
        yield Fake(running.url)
    finally:
        running.stop()


@pytest.fixture
def fake(server: Fake) -> Fake:
    server.clear()
    return server


def settings(fake: Fake, home: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "adapter": "platform",
        "x_api_base": fake.url,
        "x_bearer_token": TOKEN,
        "meta_graph_base": f"{fake.url}/v21.0",
        "meta_page_token": TOKEN,
        "notify_webhook_url": f"{fake.url}/hooks/care",
        "notify_webhook_secret": SECRET,
    }
    return Settings(home=home, platform=PlatformSettings(**{**values, **changes}))


def adapter_of(configured: Settings, **options: Any) -> PlatformAdapter:
    return PlatformAdapter(configured.platform, configured.deliveries, **options)


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
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(), "Hi Jules, yes we do ^Ana")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/2/tweets", "tweet")
    assert post["in_reply_to"] == POST_ID
    assert post["text"] == "Hi Jules, yes we do ^Ana"
    assert (delivery.id, delivery.duplicate) == (post["id"], False)


def test_an_x_private_reply_is_a_dm_to_the_customers_user_id(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, outbound(private=True), "Could you send the order number?")
    [post] = fake.posts()
    assert post["path"] == f"/2/dm_conversations/with/{user_id('hikerjules')}/messages"
    assert (post["kind"], post["text"]) == ("dm", "Could you send the order number?")
    assert delivery.id == post["id"]  # the dm_event_id


def test_an_x_dm_goes_to_the_posts_author_id_when_known(fake: Fake, tmp_path: Path) -> None:
    """The tweet's author id is their DM participant id: no lookup by a handle that may have
    changed since."""
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(private=True, recipient_id="40014"), "Thanks, checking now")
    [post] = fake.posts()
    assert post["path"] == "/2/dm_conversations/with/40014/messages"


def test_a_facebook_reply_is_a_comment_on_the_comment(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="facebook", in_reply_to="123_456")
    delivery = deliver(adapter, message, "Sorry about that")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/123_456/comments", "comment")
    assert (post["in_reply_to"], post["text"]) == ("123_456", "Sorry about that")
    assert delivery.id == post["id"]


def test_an_instagram_reply_uses_the_replies_edge(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(channel="instagram", in_reply_to="1789"), "Thanks Jo")
    assert [post["path"] for post in fake.posts()] == ["/v21.0/1789/replies"]


def test_a_private_conversation_reply_is_a_send_api_message(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(
        channel="facebook", private=True, conversation_kind="private", conversation_id="psid-40005"
    )
    delivery = deliver(adapter, message, "Here is your return label")
    [post] = fake.posts()
    assert (post["path"], post["kind"]) == ("/v21.0/me/messages", "message")
    assert (post["recipient"], post["messaging_type"]) == ("psid-40005", "RESPONSE")
    assert post["text"] == "Here is your return label"
    assert delivery.id == f"m_{post['id']}"  # the message_id


def test_a_notification_is_signed_slack_json(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
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
    adapter = adapter_of(settings(fake, tmp_path, notify_webhook_url=None))
    error = failure(adapter, outbound(kind="escalation", target="supervisor"))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "CAREFLOW_NOTIFY_WEBHOOK_URL" in error.message
    assert fake.posts() == []


def test_a_429_is_retried_after_retry_after(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
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
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(status=status, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert str(status) in error.message


def test_a_wrong_token_is_rejected_for_good(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path, x_bearer_token="revoked-token-xxxxxxxx"))
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "401" in error.message and "revoked" not in error.message
    assert fake.posts() == []


def test_a_missing_token_names_the_setting(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path, meta_page_token=None))
    error = failure(adapter, outbound(channel="facebook"))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "CAREFLOW_META_PAGE_TOKEN" in error.message


def test_the_fake_refuses_a_post_over_280_characters_like_x(fake: Fake) -> None:
    response = httpx.post(
        f"{fake.url}/2/tweets",
        json={"text": "x" * 281},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["detail"]


def test_the_same_key_twice_is_posted_once(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    first = deliver(adapter, outbound(), "hello")
    again = deliver(adapter, outbound(), "hello")
    # Another worker process, the same $CAREFLOW_HOME: the record is on disk.
    other = deliver(adapter_of(settings(fake, tmp_path)), outbound(), "hello")
    assert len(fake.posts()) == 1
    assert (again.id, again.duplicate) == (first.id, True)
    assert (other.id, other.duplicate) == (first.id, True)


def test_a_timeout_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path), timeout=httpx.Timeout(0.3))
    fake.fault(delay=1.0, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "in time" in error.message


def test_a_dropped_connection_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop=True, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "unreachable" in error.message  # no answer at all, not a 5xx
    assert fake.posts() == []


def test_an_answer_lost_after_the_post_is_the_documented_window(fake: Fake, tmp_path: Path) -> None:
    """The platform took the post but its answer never came: the retry posts again. This is the
    window the module docstring owns up to (no platform idempotency key to close it)."""
    adapter = adapter_of(settings(fake, tmp_path))
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
    loaded = Settings.from_env().platform
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
    adapter = channel_adapter(
        Settings(home=tmp_path, platform=PlatformSettings(adapter="platform"))
    )
    assert isinstance(adapter, PlatformAdapter)
    assert (tmp_path / "deliveries.sqlite3").exists()


def _reply_once(fake: Fake, tmp_path: Path, **fault: Any) -> None:
    adapter = adapter_of(settings(fake, tmp_path))

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


# ---------------------------------------------------------------- Messenger


def test_a_messenger_reply_goes_to_the_customers_psid(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(
        channel="messenger", conversation_kind="private", conversation_id="psid-7", private=True
    )
    delivery = deliver(adapter, message, "Your parcel left today")
    [post] = fake.posts()
    assert (post["path"], post["kind"], post["recipient"]) == (
        "/v21.0/me/messages",
        "message",
        "psid-7",
    )
    assert (delivery.id, delivery.private, delivery.parts) == (f"m_{post['id']}", None, 1)


def test_a_reply_asked_public_in_a_private_conversation_goes_privately(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    messenger = outbound(channel="messenger", conversation_id="psid-8", key="k/messenger")
    instagram = outbound(
        channel="instagram", conversation_kind="private", conversation_id="igsid-9", key="k/ig"
    )
    x_dm = outbound(conversation_kind="private", conversation_id="42", key="k/x")
    moved = [deliver(adapter, m, "hello").private for m in (messenger, instagram, x_dm)]
    assert moved == [True, True, True]
    posts = fake.posts()
    assert [(p["kind"], p["recipient"]) for p in posts] == [
        ("message", "psid-8"),
        ("message", "igsid-9"),
        ("dm", "42"),  # an X DM conversation is keyed by the customer's user id: no lookup
    ]


def words(count: int, word: str = "parcel") -> str:
    return " ".join(f"{word}{n}" for n in range(count))


def unnumbered(text: str) -> str:
    return text.rsplit(" (", 1)[0]


def test_a_long_messenger_reply_is_several_messages(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(500)  # about 4400 characters
    message = outbound(channel="messenger", conversation_kind="private", conversation_id="psid-1")
    delivery = deliver(adapter, message, text)
    posts = fake.posts()
    assert len(posts) == delivery.parts == 3
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(len(p["text"]) <= 2000 and p["recipient"] == "psid-1" for p in posts)
    assert " ".join(unnumbered(p["text"]) for p in posts) == text  # cut between words only
    assert delivery.text == text


def test_the_fake_refuses_a_messenger_message_over_2000_characters(fake: Fake) -> None:
    response = httpx.post(
        f"{fake.url}/v21.0/me/messages",
        json={"recipient": {"id": "psid-1"}, "message": {"text": "x" * 2001}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "2000" in response.json()["error"]["message"]


# ---------------------------------------------------------------- Meta Private Replies


@pytest.mark.parametrize("channel", ["facebook", "instagram"])
def test_a_private_message_on_a_public_comment_is_a_private_reply(
    fake: Fake, tmp_path: Path, channel: str
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel=channel, kind="invitation", private=True, in_reply_to="123_456")
    delivery = deliver(adapter, message, "Could you send us a message with your order number?")
    [post] = fake.posts()
    assert (post["path"], post["kind"], post["recipient"]) == (
        "/v21.0/me/messages",
        "private_reply",
        "123_456",
    )
    assert (delivery.id, delivery.private) == (f"m_{post['id']}", None)


def test_a_second_private_message_on_one_public_comment_is_refused(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    first = outbound(channel="facebook", private=True, in_reply_to="123_456", key="k/1")
    deliver(adapter, first, "Could you send us a message?")
    assert deliver(adapter, first, "Could you send us a message?").duplicate  # a retry: fine
    error = failure(adapter, first.model_copy(update={"key": "k/2"}))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "one private reply" in error.message and "message the Page first" in error.message
    assert len(fake.posts()) == 1  # refused before asking Meta
    # Another comment has its own private reply.
    deliver(adapter, first.model_copy(update={"key": "k/3", "in_reply_to": "123_789"}), "Hi")
    assert [p["recipient"] for p in fake.posts()] == ["123_456", "123_789"]


def test_once_the_customer_messaged_the_page_private_replies_go_to_their_thread(
    fake: Fake, tmp_path: Path
) -> None:
    """After the invitation (the comment's one Private Reply) the customer writes to the Page;
    from then on the inquiry's private messages go to that Messenger thread, by their id."""
    adapter = adapter_of(settings(fake, tmp_path))
    invite = outbound(channel="facebook", private=True, in_reply_to="123_456", key="k/1")
    deliver(adapter, invite, "Could you send us a message?")
    answer = invite.model_copy(
        update={"key": "k/2", "recipient_id": "61001", "customer_in_private": True}
    )
    delivery = deliver(adapter, answer, "Thanks Lena, a new one is on its way.")
    assert [(p["kind"], p["recipient"]) for p in fake.posts()] == [
        ("private_reply", "123_456"),
        ("message", "61001"),
    ]
    assert delivery.private is None  # it went privately, as asked


def test_messenger_follows_metas_24_hour_window(fake: Fake, tmp_path: Path) -> None:
    """Within 24 hours of the customer's latest message anything goes as a RESPONSE; later only
    a person's message, tagged HUMAN_AGENT, for up to 7 days; an automated one is refused."""
    adapter = adapter_of(settings(fake, tmp_path))
    now = datetime.now(UTC)
    dm = outbound(channel="messenger", conversation_kind="private", conversation_id="62001")

    def sent(key: str, hours_ago: float, human: bool, kind: str = "reply") -> dict[str, Any]:
        message = dm.model_copy(
            update={
                "key": key,
                "kind": kind,
                "human": human,
                "customer_last_at": now - timedelta(hours=hours_ago),
            }
        )
        deliver(adapter, message, "hello")
        return fake.posts()[-1]

    fresh = sent("k/1", 2, human=False)
    assert (fresh["messaging_type"], fresh["tag"]) == ("RESPONSE", None)
    late = sent("k/2", 30, human=True)
    assert (late["messaging_type"], late["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    automated = dm.model_copy(
        update={"key": "k/3", "kind": "follow_up", "customer_last_at": now - timedelta(hours=30)}
    )
    error = failure(adapter, automated)
    assert error.type == "DeliveryRejected" and "automated follow_up" in error.message
    too_late = automated.model_copy(
        update={"key": "k/4", "human": True, "customer_last_at": now - timedelta(days=8)}
    )
    assert "messaging window is closed" in failure(adapter, too_late).message
    assert len(fake.posts()) == 2


def test_meta_refusing_a_second_private_reply_is_explained(fake: Fake, tmp_path: Path) -> None:
    message = outbound(channel="facebook", private=True, in_reply_to="123_456")
    deliver(adapter_of(settings(fake, tmp_path / "a")), message, "first")
    # A worker with another record: only Meta knows the comment had its private reply.
    error = failure(adapter_of(settings(fake, tmp_path / "b")), message)
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "message the Page first" in error.message and "code 10900" in error.message
    assert len(fake.posts()) == 1


def test_the_fake_allows_one_private_reply_per_comment_like_meta(fake: Fake) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    send = {"recipient": {"comment_id": "123_456"}, "message": {"text": "hi"}}
    assert httpx.post(f"{fake.url}/v21.0/me/messages", json=send, headers=auth).status_code == 200
    again = httpx.post(f"{fake.url}/v21.0/me/messages", json=send, headers=auth)
    legacy = httpx.post(
        f"{fake.url}/v21.0/123_456/private_replies", json={"message": "hi"}, headers=auth
    )
    for refused in (again, legacy):
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == 10900
        assert "already replied" in refused.json()["error"]["message"]
    assert [p["kind"] for p in fake.posts()] == ["private_reply"]


def test_a_private_reply_over_one_message_is_refused(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = outbound(channel="instagram", private=True, in_reply_to="1789")
    error = failure(adapter, message, words(400))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "one message of at most 2000" in error.message
    assert fake.posts() == []


# ---------------------------------------------------------------- X long replies


def test_a_long_x_reply_is_a_numbered_thread(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)  # about 630 characters
    delivery = deliver(adapter, outbound(), text)
    posts = fake.posts()
    assert len(posts) == delivery.parts == 3
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(x_length(p["text"]) <= 280 for p in posts)
    assert " ".join(unnumbered(p["text"]) for p in posts) == text
    # Each part answers the one before; the first answers the customer.
    assert [p["in_reply_to"] for p in posts] == [POST_ID, posts[0]["id"], posts[1]["id"]]
    assert (delivery.id, delivery.private, delivery.text) == (posts[0]["id"], None, text)


def test_a_thread_failing_after_part_two_posts_only_part_three_again(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)
    fake.fault(status=500, count=1, skip=2)  # parts 1 and 2 go through, part 3 fails
    error = failure(adapter, outbound(), text)
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert [unnumbered(p["text"])[-8:] for p in fake.posts()] == [
        unnumbered(t)[-8:] for t in split_text(text, 280, x_length)[:2]
    ]
    # The activity's retry, from another worker sharing $CAREFLOW_HOME.
    retried = deliver(adapter_of(settings(fake, tmp_path)), outbound(), text)
    posts = fake.posts()
    assert [p["text"].rsplit(" ", 1)[1] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert posts[2]["in_reply_to"] == posts[1]["id"]
    assert (retried.id, retried.parts, retried.duplicate) == (posts[0]["id"], 3, False)
    again = deliver(adapter, outbound(), text)
    assert (again.id, again.parts, again.duplicate) == (posts[0]["id"], 3, True)
    assert len(fake.posts()) == 3


def test_a_long_x_reply_can_go_by_dm_with_a_public_pointer(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)
    delivery = deliver(adapter, outbound(long_replies="private"), text)
    dm, pointer = fake.posts()
    assert (dm["kind"], dm["text"], dm["recipient"]) == ("dm", text, user_id("hikerjules"))
    assert (pointer["kind"], pointer["in_reply_to"]) == ("tweet", POST_ID)
    assert pointer["text"] == "@hikerjules we've sent you a DM with the details."
    assert (delivery.id, delivery.private, delivery.parts) == (dm["id"], True, 1)
    again = deliver(adapter, outbound(long_replies="private"), text)
    assert (again.private, again.duplicate, len(fake.posts())) == (True, True, 2)


def test_x_length_counts_urls_as_23_and_wide_characters_as_2() -> None:
    assert x_length("hello") == 5
    assert x_length("see https://example.com/" + "a" * 200) == 4 + 23
    assert x_length("see https://example.com/a.") == 4 + 23 + 1  # the full stop is not the URL's
    assert x_length("acme.com/returns") == 23  # X links bare domains too
    assert x_length("日本") == 4
    assert x_length("ok 👍") == 5


def test_a_post_with_a_long_url_fits_as_x_counts_it(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = "Here is the form: https://help.example.com/" + "r" * 300
    delivery = deliver(adapter, outbound(), text)
    [post] = fake.posts()
    assert (post["text"], delivery.parts) == (text, 1)


def test_split_text_cuts_a_word_only_when_it_is_longer_than_a_part() -> None:
    parts = split_text("short " + "y" * 600 + " end", 280)
    assert [len(p) <= 280 for p in parts] == [True] * len(parts)
    assert parts[0] == "short (1/4)"
    assert "".join(unnumbered(p) for p in parts[1:3]) + unnumbered(parts[3]).split(" ")[0] == (
        "y" * 600
    )
    assert split_text("fits", 280) == ["fits"]
    many = split_text(words(400), 100)
    assert len(many) >= 10 and many[-1].endswith(f"({len(many)}/{len(many)})")
    assert all(len(p) <= 100 for p in many)


# ---------------------------------------------------------------- per-target webhooks


def notification(**changes: Any) -> Outbound:
    return outbound(kind="notification", key="inquiry-x-1/received/2", **changes)


def test_a_notification_goes_to_its_targets_own_webhook(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = notification(target="pr-team", target_webhook=f"{fake.url}/hooks/pr-team")
    deliver(adapter, message, "High-reach complaint")
    [post] = fake.posts()
    assert (post["path"], post["text"]) == ("/hooks/pr-team", "High-reach complaint")
    assert post["headers"]["x-careflow-signature"] == sign(SECRET, post["body"].encode())


def test_a_targets_webhook_variable_is_read_when_sending(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    message = notification(target="supervisors", target_webhook="${SUPERVISORS_WEBHOOK_URL}")
    monkeypatch.setenv("SUPERVISORS_WEBHOOK_URL", f"{fake.url}/hooks/supervisors")
    deliver(adapter, message, "Unhappy customer")
    assert [p["path"] for p in fake.posts()] == ["/hooks/supervisors"]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_targets_missing_variable_is_rejected_by_name(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("SUPERVISORS_WEBHOOK_URL", raising=False)
    else:
        monkeypatch.setenv("SUPERVISORS_WEBHOOK_URL", value)
    adapter = adapter_of(settings(fake, tmp_path))
    message = notification(target="supervisors", target_webhook="${SUPERVISORS_WEBHOOK_URL}")
    error = failure(adapter, message)
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "SUPERVISORS_WEBHOOK_URL" in error.message and "'supervisors'" in error.message
    assert fake.posts() == []  # not even to the default webhook


def test_webhook_urls_stay_out_of_errors_and_logs(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = adapter_of(settings(fake, tmp_path))
    monkeypatch.setenv("PR_HOOK", "not-a-url/secret-token")
    error = failure(adapter, notification(target="pr-team", target_webhook="${PR_HOOK}"))
    assert "PR_HOOK" in error.message and "secret-token" not in error.message
    error = failure(adapter, notification(target="pr-team", target_webhook="hooks/secret-token"))
    assert "'pr-team'" in error.message and "secret-token" not in error.message
    missing = f"{fake.url}/nowhere/secret-token"
    error = failure(adapter, notification(target="pr-team", target_webhook=missing))
    assert "404" in error.message and "'pr-team'" in error.message
    deliver(adapter, notification(target="pr-team", target_webhook=f"{fake.url}/hooks/s3"), "hi")
    assert "secret-token" not in error.message
    assert "/nowhere" not in caplog.text and "/hooks/s3" not in caplog.text


def test_notifications_without_their_own_webhook_and_escalations_use_the_default(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, notification(target="supervisors"), "a notification")
    escalation = outbound(
        kind="escalation", key="k/esc", target="supervisor", target_webhook=f"{fake.url}/hooks/x"
    )
    deliver(adapter, escalation, "an escalation")
    assert [p["path"] for p in fake.posts()] == ["/hooks/care", "/hooks/care"]


# ---------------------------------------------------------------- live-chat hand-off

CHAT_SECRET = "chat-secret"
TRANSCRIPT = [
    {"direction": "in", "text": "my order is late"},
    {"direction": "out", "text": "on it"},
]


def handoff(**changes: Any) -> Outbound:
    values: dict[str, Any] = {
        "kind": "chat_handoff",
        "key": "inquiry-x-1/escalate/3",
        "target": "chat",
        "agent": "Ana",
        "transcript": TRANSCRIPT,
    }
    return outbound(**{**values, **changes})


def chat_settings(fake: Fake, home: Path) -> Settings:
    return settings(fake, home, chat_url=f"{fake.url}/chat/sessions", chat_secret=CHAT_SECRET)


def test_a_chat_handoff_opens_a_session_with_a_link(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(chat_settings(fake, tmp_path))
    delivery = deliver(adapter, handoff(), "customer asked for a call (agent: Ana)")
    [post] = fake.posts()
    assert post["kind"] == "chat_session"
    assert post["headers"]["idempotency-key"] == "inquiry-x-1/escalate/3"
    raw = json.dumps(post["body"], ensure_ascii=False).encode()
    assert post["headers"]["x-careflow-signature"] == sign(CHAT_SECRET, raw)
    assert post["body"]["agent"] == "Ana" and post["body"]["customer"] == "hikerjules"
    assert (post["body"]["channel"], post["body"]["conversation_id"]) == ("x", POST_ID)
    assert post["body"]["reason"] == "customer asked for a call (agent: Ana)"
    assert delivery.link == f"{fake.url}/chat/{delivery.id}"
    session = httpx.get(delivery.link).json()
    assert (session["agent"], session["transcript"]) == ("Ana", TRANSCRIPT)
    again = deliver(adapter, handoff(), "customer asked for a call (agent: Ana)")
    assert (again.duplicate, again.id, again.link) == (True, delivery.id, delivery.link)
    assert len(fake.posts()) == 1


def test_a_chat_handoff_whose_answer_is_lost_opens_one_session(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(chat_settings(fake, tmp_path))
    fake.fault(drop="after", count=1)
    error = failure(adapter, handoff())
    assert error.type == "PlatformUnavailable"
    delivery = deliver(adapter, handoff(), "hello")  # the retry: the service knows the key
    [post] = fake.posts()
    assert delivery.id == f"chat-{post['id']}" and delivery.link is not None


def test_a_chat_handoff_without_a_chat_service_goes_to_the_webhook(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    delivery = deliver(adapter, handoff(), "customer asked for a call")
    [post] = fake.posts()
    assert (post["path"], post["text"], delivery.link) == (
        "/hooks/care",
        "customer asked for a call",
        None,
    )


def test_an_escalation_to_chat_sends_the_customer_the_session_link(
    fake: Fake, tmp_path: Path
) -> None:
    """The workflow end to end: the hand-off opens a session on the fake chat service, and the
    customer (a public X post) gets its link by DM."""
    adapter = adapter_of(chat_settings(fake, tmp_path))

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            await h.status(handle)
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Let me check")
            )
            await handle.execute_update(
                InquiryWorkflow.escalate,
                EscalateRequest(agent="Ana", to="chat", reason="needs a call"),
            )
            posts = await asyncio.to_thread(fake.posts)
            [session] = [p for p in posts if p["kind"] == "chat_session"]
            [dm] = [p for p in posts if p["kind"] == "dm"]
            link = f"{fake.url}/chat/chat-{session['id']}"
            assert link in dm["text"]
            shown = await asyncio.to_thread(lambda: httpx.get(link).json())
            assert shown["agent"] == "Ana"
            assert any(m.get("text") == "Let me check ^Ana" for m in shown["transcript"])
            status = await h.status(handle)
            assert status.agent == "Ana"  # the same agent carries on in the chat
            [sent] = [m for m in status.messages if m.kind == "chat_link"]
            assert sent.private and link in sent.text
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(timedelta(hours=100))  # the follow-up goes unanswered: closed
            await handle.result()
            await keep_history(handle, "chat-link")

    asyncio.run(scenario())


def test_a_long_agent_reply_through_the_workflow_is_one_thread(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    text = words(80)

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path), adapter) as h:
            handle = await h.start(example("question", await h.now()))
            await h.status(handle)
            await asyncio.to_thread(fake.fault, status=500, count=1, skip=1)  # part 2 fails once
            await handle.execute_update(InquiryWorkflow.reply, ReplyRequest(agent="Ana", text=text))
            status = await h.status(handle)
            assert status.escalations == []
            tweets = [p for p in await asyncio.to_thread(fake.posts) if p["kind"] == "tweet"]
            thread = [p for p in tweets if p["text"].endswith("/3)")]
            assert [p["text"][-5:] for p in thread] == ["(1/3)", "(2/3)", "(3/3)"]
            assert status.messages[-1].id == thread[0]["id"]
            assert await asyncio.to_thread(fake.pending) == 0  # the fault was met, and retried

    asyncio.run(scenario())
