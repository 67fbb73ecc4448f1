"""The engine is versioned like the workflow: what ran an inquiry is recorded, its calendars use
the pinned tz database, and an engine behaviour change keeps recorded inquiries' behaviour.

Run with CAREFLOW_RECORD_HISTORIES=1 (this file only) to record ``engine-versions``: a history
whose rules load carries careflow's and tzdata's versions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from careflow.engine.ruleset import compiled_ruleset
from careflow.engine.zones import TZDATA_VERSION, zone
from tests.conftest import DEFAULT_PACK
from tests.harness import HISTORIES, careflow, example, keep_history, round_the_clock_pack
from tests.workflows.engine_change import engine_v2
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest

# British Columbia keeps UTC-7 all year from November 2026 (IANA 2026 data, the pinned tzdata);
# an older system tz database would say UTC-8 and move every deadline by an hour.
BC = timezone(timedelta(hours=-7))


def _vancouver_pack(directory: Path) -> Path:
    text = DEFAULT_PACK.read_text()
    assert "timezone: America/New_York" in text, "the default pack's calendar changed"
    pack = directory / "vancouver.yaml"
    pack.write_text(text.replace("timezone: America/New_York", "timezone: America/Vancouver"))
    return pack


def _next_tuesday_evening(now: datetime) -> datetime:
    """19:55 in Vancouver on a Tuesday after BC's change (Wednesday is no holiday in the pack)."""
    local = max(now, datetime(2026, 11, 10, tzinfo=UTC)).astimezone(BC)
    days = (1 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=19, minute=55, second=0, microsecond=0)


def test_an_inquiry_records_what_ran_it_and_keeps_bc_time(tmp_path: Path) -> None:
    # The zone is read from the tzdata package inside the workflow's sandbox, not before it.
    zone.cache_clear()
    compiled_ruleset.cache_clear()

    async def scenario() -> None:
        async with careflow(tmp_path, _vancouver_pack(tmp_path)) as h:
            tuesday = _next_tuesday_evening(await h.now())
            await h.skip(tuesday - await h.now())
            handle = await h.start(example("question", tuesday))
            status = await h.until(handle, lambda s: "acknowledge" in s.clocks)
            assert status.ruleset["careflow_version"] == metadata.version("careflow")
            assert status.ruleset["tzdata_version"] == TZDATA_VERSION
            assert status.ruleset["engine_version"] == "1"
            # 5 open minutes on Tuesday, 25 from Wednesday 08:00 Vancouver time (UTC-7).
            due = status.clocks["acknowledge"].internal_due
            assert due == (tuesday + timedelta(hours=12, minutes=30)).astimezone(UTC)
            assert due.astimezone(BC).strftime("%a %H:%M") == "Wed 08:25"
            await handle.execute_update(
                InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Here is how.")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            result = await handle.result()  # closed: an auditor can report on it offline
            assert result.status.ruleset["tzdata_version"] == TZDATA_VERSION
            await keep_history(handle, "engine-versions")

    asyncio.run(scenario())


def _replay(files: list[Path], extra: Sequence[WorkflowHistory] = ()) -> dict[str, str | None]:
    replayer = Replayer(workflows=[InquiryWorkflow], data_converter=pydantic_data_converter)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for f in files:
            yield WorkflowHistory.from_json(f"recorded-{f.stem}", json.loads(f.read_text()))
        for history in extra:
            yield history

    async def replay_all() -> dict[str, str | None]:
        results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
        return {
            run: str(error) if error else None for run, error in results.replay_failures.items()
        }

    return asyncio.run(replay_all())


RECORDED = sorted(HISTORIES.rglob("*.json"))


def test_recorded_inquiries_keep_their_engine_behaviour_after_a_guarded_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(RECORDED) > 20
    with engine_v2(monkeypatch):
        assert _replay(RECORDED) == {}


def test_an_unguarded_engine_change_fails_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    with engine_v2(monkeypatch, guarded=False):
        failures = _replay(RECORDED)
    assert len(failures) > len(RECORDED) // 2
    assert all("nondeterminism" in str(failure).lower() for failure in failures.values())


def test_a_new_inquiry_runs_the_new_engine_and_its_history_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> tuple[list[str], list[str], WorkflowHistory]:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            old = await h.start(example("billing", await h.now()))
            old_fired = (await h.until(old, lambda s: "acknowledge" in s.clocks)).fired
            with engine_v2(monkeypatch):
                new = await h.start(example("billing", await h.now()))
                status = await h.until(new, lambda s: "acknowledge" in s.clocks)
                assert status.ruleset["engine_version"] == "2"
            return old_fired, status.fired, await new.fetch_history()

    old_fired, new_fired, history = asyncio.run(scenario())
    assert old_fired == ["billing"] and new_fired == []  # version 2 evaluates no rules
    markers = [
        event.SerializeToString()
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert any(b"engine-v2" in marker for marker in markers)
    with engine_v2(monkeypatch):  # and it replays with version 2's behaviour
        assert _replay([], [history]) == {}
