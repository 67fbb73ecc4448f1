"""Notification webhooks and the live-chat hand-off (activities/adapters/webhook.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities.adapters.http import sign
from activities.types import Outbound
from careflow.settings import Settings
from tests.activities.adapters.support import (
    POST_ID,
    SECRET,
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
)
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import EscalateRequest, ReplyRequest, ResolveRequest


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
