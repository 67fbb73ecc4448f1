"""The adapter itself: routing, at most once per key, settings, and two workflow tests that run
an inquiry on the time-skipping server with the fake failing first (500s, a 429 storm) and check
the reply is posted exactly once (activities/adapters/platform.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from activities.adapters.platform import PlatformAdapter
from careflow.settings import PlatformSettings, Settings
from careflow.temporal.worker import channel_adapter
from tests.activities.adapters.support import (
    POST_ID,
    Fake,
    adapter_of,
    deliver,
    failure,
    outbound,
    settings,
)
from tests.harness import careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest


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


def test_the_same_key_twice_is_posted_once(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    first = deliver(adapter, outbound(), "hello")
    again = deliver(adapter, outbound(), "hello")
    # Another worker process, the same $CAREFLOW_HOME: the record is on disk.
    other = deliver(adapter_of(settings(fake, tmp_path)), outbound(), "hello")
    assert len(fake.posts()) == 1
    assert (again.id, again.duplicate) == (first.id, True)
    assert (other.id, other.duplicate) == (first.id, True)


def test_an_answer_lost_after_the_post_is_found_not_posted_again(
    fake: Fake, tmp_path: Path
) -> None:
    """The platform took the post but its answer never came: the retry finds it on the platform
    (tests/activities/adapters/test_reconcile.py has every channel)."""
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop="after", count=1)
    failure(adapter, outbound())
    again = deliver(adapter, outbound(), "hello")
    [post] = fake.posts()
    assert (again.id, again.duplicate) == (post["id"], True)


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
