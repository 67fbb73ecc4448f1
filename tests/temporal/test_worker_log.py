"""A failure careflow raises on purpose is one log line per attempt, not a traceback: a broken
rule file retried every few seconds once filled the worker log with 532 traceback lines in 90 s
(careflow/temporal/worker.py ``ExpectedFailureLines``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careflow.temporal.inquiries import RulesNotLoaded, status
from tests.harness import careflow, example, round_the_clock_pack


def test_a_broken_rule_file_is_one_line_per_attempt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pack = round_the_clock_pack(tmp_path)

    async def scenario() -> None:
        async with careflow(tmp_path, pack) as h:
            pack.write_text("version: 1\nname: broken\nrules: [\n  - when: {\n")
            handle = await h.start(example("question", datetime.now(UTC)))
            with pytest.raises(RulesNotLoaded):
                await status(h.env.client, handle.id)

    with caplog.at_level(logging.WARNING, logger="temporalio.activity"):
        asyncio.run(scenario())
    failures = [r for r in caplog.records if "Completing activity as failed" in r.getMessage()]
    assert failures, "the load_rules failure was not logged"
    for record in failures:
        line = record.getMessage()
        assert record.exc_info is None and "\n" not in line
        assert f"RuleFileInvalid: rule file has problems: {pack}:4:3: YAML syntax error" in line
