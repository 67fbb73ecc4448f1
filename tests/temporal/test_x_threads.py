"""X threads on a real (dev) server: an inquiry lists its tweets in ``CareThread`` (behind the
``x-thread`` patch) and the intake finds a customer's inquiry from the tweet they answer; an
inquiry keyed the old way (``inquiry-x-<thread>``) still receives its customer's replies, while
another customer in the same thread gets an inquiry of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client

from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from careflow.settings import Settings, TemporalSettings
from careflow.temporal import inquiries
from careflow.temporal.intake import intake, record_brand_post
from careflow.temporal.worker import build_worker
from tests.harness import CUSTOMERS, dev_server, example, keep_history, quick_follow_up_pack
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, ResolveRequest
from workflows.state import InquiryStatus

BRAND_TWEET = "1870000000000000900"
T = TypeVar("T")


def _reply(post: Inquiry, tweet: str, author: str, handle: str, parent: str) -> Inquiry:
    """``post`` as another tweet in the brand tweet's thread (Account Activity: the parent)."""
    person = post.author.model_copy(update={"id": author, "handle": handle})
    return post.model_copy(update={"id": tweet, "conversation_id": parent, "author": person})


async def _thread(client: Client, wid: str) -> list[str]:
    described = await client.get_workflow_handle(wid).describe()
    return list(described.typed_search_attributes.get(search.THREAD) or [])


async def _until(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    """Visibility is eventually consistent: poll until ``check`` gives something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.2)
    return found


def test_threads_join_per_customer_and_old_keys_keep_working(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)

    async def scenario() -> None:
        async with await dev_server() as env:
            client = env.client
            settings = Settings(
                rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="x-threads")
            )
            queue = settings.temporal.task_queue
            async with build_worker(client, settings):
                base = example("question", await env.get_current_time())
                # Opened the old way: a reply to the brand tweet keyed on the thread alone.
                maya = _reply(base, "1870000000000000901", "41001", "maya_r", BRAND_TWEET)
                old = await intake(client, queue, maya, ruleset, customers=CUSTOMERS)
                assert old.workflow_id == f"inquiry-x-{BRAND_TWEET}"
                # Maya answers the brand tweet again: her (old-keyed) inquiry gets it.
                again = _reply(base, "1870000000000000902", "41001", "maya_r", BRAND_TWEET)
                joined = await intake(
                    client, queue, again, ruleset, in_reply_to=BRAND_TWEET, customers=CUSTOMERS
                )
                assert (joined.workflow_id, joined.continued) == (old.workflow_id, True)
                # Tom answers the same brand tweet: an inquiry of his own.
                tom = _reply(base, "1870000000000000903", "41002", "tom_k", BRAND_TWEET)
                his = await intake(
                    client, queue, tom, ruleset, in_reply_to=BRAND_TWEET, customers=CUSTOMERS
                )
                tom_wid = f"inquiry-x-{BRAND_TWEET}.41002"
                assert (his.workflow_id, his.continued) == (tom_wid, False)

                # An agent answers Tom: careflow's reply joins his CareThread.
                await inquiries.status(client, tom_wid)
                handle = client.get_workflow_handle_for(InquiryWorkflow.run, tom_wid)
                await handle.execute_update(
                    InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="ana", text="On it Tom")
                )
                status: InquiryStatus = await inquiries.status(client, tom_wid)
                (ours,) = [m.id for m in status.messages if m.direction == "out"]
                assert ours is not None
                await _until(lambda: _holds(client, tom_wid, ours))

                # The brand's native reply to Tom's tweet is recorded on his inquiry.
                native = tom.model_copy(
                    update={
                        "id": "1870000000000000904",
                        "conversation_id": tom.id,
                        "author": tom.author.model_copy(update={"id": "1000", "handle": "acme"}),
                    }
                )
                assert (
                    await record_brand_post(client, native, tom.id, customers=CUSTOMERS) == tom_wid
                )

                # Tom answers careflow's reply: his inquiry, not a new one.
                answer = _reply(base, "1870000000000000905", "41002", "tom_k", ours)
                continued = await intake(
                    client, queue, answer, ruleset, in_reply_to=ours, customers=CUSTOMERS
                )
                assert (continued.workflow_id, continued.continued) == (tom_wid, True)
                # …and Maya answering careflow's reply to Tom does not land on Tom's.
                intruder = _reply(base, "1870000000000000906", "41001", "maya_r", ours)
                hers = await intake(
                    client, queue, intruder, ruleset, in_reply_to=ours, customers=CUSTOMERS
                )
                assert hers.workflow_id == f"inquiry-x-{ours}.41001"

                final = await _until(lambda: _has(client, tom_wid, "1870000000000000905"))
                assert final is not None
                assert {m.id for m in final.messages} >= {
                    "1870000000000000903",
                    "1870000000000000904",
                    "1870000000000000905",
                }
                await handle.execute_update(
                    InquiryWorkflow.resolve, ResolveRequest(agent="ana", code="fixed")
                )
                result = await handle.result(rpc_timeout=timedelta(seconds=30))
                assert result.kind == "closed"
                await keep_history(handle, "x-thread")

    asyncio.run(scenario())


async def _holds(client: Client, wid: str, tweet: str) -> bool:
    return tweet in await _thread(client, wid)


async def _has(client: Client, wid: str, message_id: str) -> InquiryStatus | None:
    status = await inquiries.status(client, wid)
    return status if any(m.id == message_id for m in status.messages) else None
