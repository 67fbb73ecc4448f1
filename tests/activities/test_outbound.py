"""The deliver activity: templates render in the sandbox, agents sign, and no key posts twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters.sandbox import SandboxAdapter, read_outbox
from activities.outbound import OutboundActivities
from activities.types import Outbound
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK
from tests.harness import example

POSTED = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def _outbound(key: str = "inquiry-x-1/acknowledge/1", **changes: object) -> Outbound:
    base = Outbound(
        key=key,
        kind="reply",
        channel="x",
        conversation_id="1",
        in_reply_to="1",
        recipient="sam_k",
        text="Sorry about that, we're on it.",
    )
    return base.model_copy(update=changes)


def _deliver(path: Path, outbound: Outbound) -> tuple[str, bool]:
    activities = OutboundActivities(SandboxAdapter(path))
    delivery = asyncio.run(ActivityEnvironment().run(activities.deliver, outbound))
    return delivery.text, delivery.duplicate


def test_an_agent_reply_is_signed(tmp_path: Path) -> None:
    text, _ = _deliver(tmp_path / "outbox.jsonl", _outbound(signature="Ana"))
    assert text == "Sorry about that, we're on it. ^Ana"


def test_a_retried_delivery_posts_once_even_from_another_worker(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    first = _deliver(outbox, _outbound())
    again = _deliver(outbox, _outbound())  # a new adapter: another process sharing the file
    other = _deliver(outbox, _outbound(key="inquiry-x-1/acknowledge/2", text="Second."))
    assert first == ("Sorry about that, we're on it.", False)
    assert again == ("Sorry about that, we're on it.", True)
    assert other == ("Second.", False)
    assert [line["key"] for line in read_outbox(outbox)] == [
        "inquiry-x-1/acknowledge/1",
        "inquiry-x-1/acknowledge/2",
    ]


def test_customer_text_is_data_in_a_template(tmp_path: Path) -> None:
    ruleset = load_ruleset(DEFAULT_PACK)
    inquiry = example("question", POSTED)
    inquiry = inquiry.model_copy(update={"text": "{{ 7*7 }} {% raise %}"})
    variables = ruleset.template_variables(inquiry, ruleset.defaults)
    outbound = _outbound(
        text=None,
        template="You wrote: {{ inquiry.text }}",
        template_name="echo",
        variables=variables,
    )
    text, _ = _deliver(tmp_path / "outbox.jsonl", outbound)
    assert text == "You wrote: {{ 7*7 }} {% raise %}"


def test_a_template_that_cannot_render_is_not_retried(tmp_path: Path) -> None:
    outbound = _outbound(text=None, template="{{ window.next_reply.internal }}", template_name="x")
    with pytest.raises(ApplicationError) as caught:
        _deliver(tmp_path / "outbox.jsonl", outbound)
    assert caught.value.type == "TemplateRenderError" and caught.value.non_retryable
    assert "template 'x'" in caught.value.message
    assert read_outbox(tmp_path / "outbox.jsonl") == []
