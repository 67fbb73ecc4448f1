"""One recording of the script in recordings.py, shared by the what-if tests (it takes seconds)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.whatif.recordings import record, rule_files


@dataclass(frozen=True)
class Recorded:
    histories: Path
    old: Path
    new: Path
    ids: dict[str, str]  # label -> workflow id


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    folder = tmp_path_factory.mktemp("whatif")
    old, new = rule_files(folder)
    histories = folder / "histories"
    histories.mkdir()
    ids = asyncio.run(record(histories, old, folder / "home"))
    return Recorded(histories, old, new, ids)


@pytest.fixture(autouse=True)
def in_process_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--full`` leaves with os._exit in real use (common.leave): not inside pytest."""
    monkeypatch.setattr("careflow.cli.common.HARD_EXIT", False)
