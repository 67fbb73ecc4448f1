"""While the rule file is broken, an inquiry waits for a fix; asked where it stands, careflow
says why (the file's own problem, with its line), not that no worker seems to be running."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careflow.http.agent import _failure
from careflow.temporal.inquiries import RulesNotLoaded, act, status
from tests.harness import careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest


def test_status_says_the_rules_cannot_be_loaded_and_where(tmp_path: Path) -> None:
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with careflow(tmp_path, pack) as h:
            pack.write_text("version: 1\nname: broken\nrules: [\n")  # an ops engineer's typo
            handle = await h.start(example("question", datetime.now(UTC)))
            started = asyncio.get_running_loop().time()
            with pytest.raises(RulesNotLoaded) as raised:
                await status(h.env.client, handle.id)
            assert asyncio.get_running_loop().time() - started < 10  # not the 15 s time-out
            message = str(raised.value)
            assert message.startswith(
                f"the rules cannot be loaded: rule file has problems: {pack}:4:1:"
            )
            assert "\n" not in message

    asyncio.run(scenario())


def test_an_agent_action_fails_at_once_with_the_reason_and_does_nothing(tmp_path: Path) -> None:
    """Before, ``ack`` hung over a minute and was then not applied; now it is refused at once
    with the file's problem, and once the file is fixed the inquiry carries on without it."""
    pack = round_the_clock_pack(tmp_path)
    good = pack.read_text()

    async def scenario() -> None:
        async with careflow(tmp_path, pack) as h:
            pack.write_text("version: 1\nname: broken\nrules: [\n")
            handle = await h.start(example("question", datetime.now(UTC)))
            with pytest.raises(RulesNotLoaded):
                await status(h.env.client, handle.id)  # the first load has failed
            started = asyncio.get_running_loop().time()
            with pytest.raises(RulesNotLoaded) as raised:
                await act(
                    h.env.client,
                    handle.id,
                    InquiryWorkflow.acknowledge,
                    AcknowledgeRequest(agent="dana", text="On it"),
                )
            assert asyncio.get_running_loop().time() - started < 5
            assert str(raised.value).startswith(
                f"the rules cannot be loaded, nothing was done: rule file has problems: {pack}:4:1:"
            )
            pack.write_text(good)
            answer = await h.until(handle, lambda answer: True, timeout=60)
            assert "On it" not in [message.text for message in answer.messages]

    asyncio.run(scenario())


def test_the_agent_api_answers_503_with_the_reason() -> None:
    why = "the rules cannot be loaded: rule file has problems: rules.yaml:4:1: YAML syntax error"
    answer = _failure(RulesNotLoaded(why), "inquiry-x-1")
    assert answer.status_code == 503
    assert json.loads(bytes(answer.body)) == {"error": why}
