"""Inquiries recorded for the replay corpus (tests/workflows/histories/corpus/): the paths the
workflow tests do not keep, each checked as a user sees it before its history is kept.

With CAREFLOW_RECORD_HISTORIES=1 their histories are written to the corpus folder; test_replay.py
replays them on every change, and test_patch_coverage.py checks that every patch has one.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from careflow.engine.ruleset import load_ruleset
from careflow.settings import EncryptionSettings, Settings, TemporalSettings
from careflow.temporal.connection import data_converter
from careflow.temporal.intake import intake, send_customer_message
from careflow.temporal.worker import build_worker
from tests.harness import (
    CORPUS_TEST_KEYS,
    CUSTOMERS,
    ENCRYPTED_HISTORIES,
    HISTORIES,
    Harness,
    careflow,
    dev_server,
    example,
    keep_history,
    round_the_clock_pack,
    skipping_server,
)
from tests.temporal.test_search_attributes import _attributes, _eventually
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, CustomerMessage, ReplyRequest, ResolveRequest
from workflows.state import BrandMessage

CORPUS = HISTORIES / "corpus"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_native_reply_learned_after_the_deadline_does_not_meet_it_in_time(
    tmp_path: Path,
) -> None:
    """The customer writes again and a colleague answers in X's own app a minute later, but
    careflow learns of both only after the next-reply window closed (its worker was down): the
    reply meets the clock when careflow learns of it, so the published window is missed and a
    supervisor is told. Before the native-reply-when-learned patch the reply met it at its
    post time (earlier/native-reply-learned-late.json keeps that, recorded by the old code)."""

    async def scenario() -> None:
        async with skipping_server(tmp_path, round_the_clock_pack(tmp_path)) as h:
            async with build_worker(h.env.client, h.settings, cached_workflows=0):
                handle = await h.start(example("question", await h.now()))
                await h.skip(5 * MINUTE)
                await handle.execute_update(
                    InquiryWorkflow.acknowledge,
                    AcknowledgeRequest(agent="Ana", text="Hi Jules, checking the stock."),
                )
            # The worker is away; the webhooks (stamped with the posts' times) wait, and reach
            # the inquiry together past the next reply's published 2h (before resolve's 4h).
            written = await h.now()
            await h.skip(150 * MINUTE)
            again = CustomerMessage(id="1870000000000000901", text="Any news?", at=written)
            await handle.signal(InquiryWorkflow.customer_message, again)
            native = BrandMessage(
                id="1870000000000000902",
                text="@hikerjules size 44 is back in stock online",
                at=written + MINUTE,
                by="acme",
            )
            await handle.signal(InquiryWorkflow.brand_message, native)
            async with build_worker(h.env.client, h.settings):
                status = await h.until(
                    handle, lambda s: any(m.kind == "native_reply" for m in s.messages)
                )
                next_reply = status.clocks["next_reply"]
                assert (next_reply.internal, next_reply.published) == ("missed", "missed")
                assert next_reply.met_at is not None and next_reply.met_at >= written + 2 * HOUR
                assert "published-breach" in status.fired
                await handle.execute_update(
                    InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
                )
                await h.skip(100 * HOUR)  # the follow-up goes unanswered: closed
                result = await handle.result()
                assert result.kind == "closed"
                notes = [e for e in h.outbox() if e["kind"] == "notification"]
                assert [n["to"] for n in notes] == ["supervisors"]
                await keep_history(handle, "native-reply-learned-late", CORPUS)

    run(scenario())


async def _chain(h: Harness, workflow_id: str, first_run_id: str) -> list[WorkflowHandle[Any, Any]]:
    """Every run of an inquiry, oldest first, followed from the first run's continued-as-new
    event to the next run's."""
    runs, run_id = [], first_run_id
    while True:
        handle = h.env.client.get_workflow_handle(workflow_id, run_id=run_id)
        runs.append(handle)
        last = (await handle.fetch_history()).events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


def test_a_chain_of_runs_is_one_inquiry_from_first_post_to_close(tmp_path: Path) -> None:
    """A conversation long enough to continue as new (a small history limit) keeps its agent,
    its clocks met and its messages counted across runs, and closes as one inquiry; each run's
    history is kept (corpus/chain-run-N.json), so the chain replays run by run."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()), history_limit=40)
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana")
            )
            for n in range(8):
                await h.say(handle, f"message {n}", id=f"m-{n}")
            await h.skip(MINUTE)
            latest = h.env.client.get_workflow_handle_for(InquiryWorkflow.run, handle.id)
            await latest.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Found it: it ships today.")
            )
            await latest.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(100 * HOUR)  # the follow-up goes unanswered: closed
            result = await latest.result()
            assert result.kind == "closed" and result.status.agent == "Ana"
            runs = await _chain(h, handle.id, str(handle.result_run_id))
            assert len(runs) >= 3 and result.status.runs == len(runs)
            assert result.status.earlier.runs[0] == handle.result_run_id
            texts = [m.text for m in result.status.messages if m.kind == "message"]
            assert texts == [f"message {n}" for n in range(8)]
            assert result.status.clocks["acknowledge"].met_at is not None
            for number, run_handle in enumerate(runs, start=1):
                await keep_history(run_handle, f"chain-run-{number}", CORPUS)

    run(scenario())


def test_an_encrypted_inquiry_keeps_no_customer_text_in_its_history(tmp_path: Path) -> None:
    """With encryption on (the test-only key), the stored history holds none of the customer's
    or the agent's words; it is kept in encrypted_histories/ and replays with the key."""
    converter = data_converter(EncryptionSettings(keys=CORPUS_TEST_KEYS))
    reply = "Hi Jules, size 44 is back in stock on Friday."

    async def scenario() -> None:
        async with careflow(
            tmp_path, round_the_clock_pack(tmp_path), data_converter=converter
        ) as h:
            inquiry = example("question", await h.now())
            handle = await h.start(inquiry)
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text=reply)
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.say(handle, "thanks, all good")
            result = await handle.result()
            assert result.reason == "customer confirmed the fix"
            history = await keep_history(handle, "acknowledged-resolved", ENCRYPTED_HISTORIES)
            raw = b"".join(event.SerializeToString() for event in history.events)
            assert b"careflow-encrypted" in raw
            for secret in (inquiry.text, "hikerjules", reply, "thanks, all good"):
                assert secret.encode() not in raw, secret

    run(scenario())


SEGMENT_RULE = """
  - name: denver-segment
    on: received
    when: {text: {contains: denver}}
    do: [{set: {segment: denver}}]
"""


def test_a_rated_inquiry_on_a_real_server_keeps_its_report_attributes(tmp_path: Path) -> None:
    """With search attributes on (a dev server, started by intake as in production), an inquiry
    answered, resolved and rated keeps what ``careflow report`` and ``careflow insights`` read:
    response and resolution seconds, the rating, its segment and topics. Its history
    (corpus/search-attributes-rated.json) replays the sla-search-attributes, csat-rating and
    insights-topics branches."""
    pack = round_the_clock_pack(tmp_path, SEGMENT_RULE)
    slow = "follow_up: {template: follow_up, after: 24h, wait: 72h"
    assert slow in pack.read_text(), "the default pack's follow-up line changed"
    pack.write_text(pack.read_text().replace(slow, slow.replace("24h", "1s")))
    ruleset = load_ruleset(pack)
    settings = Settings(
        rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="corpus-sla")
    )

    async def scenario() -> None:
        async with await dev_server() as env, build_worker(env.client, settings):
            client = env.client
            now = await env.get_current_time()
            post = example("question", now, text="@acme my order to Denver never came")
            started = await intake(client, "corpus-sla", post, ruleset, customers=CUSTOMERS)
            assert started.workflow_id is not None
            handle = client.get_workflow_handle_for(InquiryWorkflow.run, started.workflow_id)
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text="On it, Jules.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            for _ in range(100):  # the follow-up asks for a rating a second later
                if (await handle.query(InquiryWorkflow.status)).rating_asked_at is not None:
                    break
                await asyncio.sleep(0.1)
            rating = CustomerMessage(id="rating-1", text="5", at=await env.get_current_time())
            await send_customer_message(client, started.workflow_id, rating)
            result = await handle.result()
            assert result.reason == "customer rated the service highly"

            async def reported() -> dict[str, object]:
                attributes = await _attributes(client, started.workflow_id or "")
                assert attributes.get("CareStep") == "closed"
                return attributes

            attributes = await _eventually(reported)
            assert attributes["CareAgent"] == "Ana" and attributes["CareSegment"] == "denver"
            assert attributes["CareRating"] == 5.0 and "CareRatingAsked" in attributes
            assert isinstance(attributes["CareFirstResponseSeconds"], int)
            assert isinstance(attributes["CareResolutionSeconds"], int)
            await keep_history(handle, "search-attributes-rated", CORPUS)

    run(scenario())


def test_a_post_longer_than_its_platform_allows_is_answered_not_dropped(tmp_path: Path) -> None:
    """A pasted log of a post, spam words past X's 4,000 characters: the rules read only what
    X allows (the bounded-text patch), so it is not dropped as spam; the agent answers it."""

    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            post = example("question", await h.now())
            filler = "my order has not arrived yet " * 150  # 4,350 characters
            handle = await h.start(post.model_copy(update={"text": f"{filler} GIVEAWAY"}))
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text="On it, Jules.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.skip(100 * HOUR)  # the follow-up goes unanswered: closed
            result = await handle.result()
            assert result.kind == "closed" and "drop-giveaway-spam" not in result.status.fired
            await keep_history(handle, "long-post-answered", CORPUS)

    run(scenario())
