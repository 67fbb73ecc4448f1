"""While the rule file is broken, an inquiry waits for a fix; asked where it stands, careflow
says why (the file's own problem, with its line), not that no worker seems to be running."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careflow.http.agent import _failure
from careflow.temporal.inquiries import RulesNotLoaded, status
from tests.harness import careflow, example, round_the_clock_pack


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


def test_the_agent_api_answers_503_with_the_reason() -> None:
    why = "the rules cannot be loaded: rule file has problems: rules.yaml:4:1: YAML syntax error"
    answer = _failure(RulesNotLoaded(why), "inquiry-x-1")
    assert answer.status_code == 503
    assert json.loads(bytes(answer.body)) == {"error": why}
