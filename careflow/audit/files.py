"""Exported histories on disk: one JSON file per workflow run, in the format of the Temporal CLI
(``temporal workflow show --output json``) and UI, named so the workflow id can be read back."""

from __future__ import annotations

import json
import re
from pathlib import Path

from temporalio.client import WorkflowHistory

SEPARATOR = "__"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class HistoryFileError(ValueError):
    """A file that is not a workflow history, said with its path."""


def file_name(workflow_id: str, run_id: str) -> str:
    """``<workflow id>__<run id>.json``, with characters unsafe in file names replaced."""
    return f"{_UNSAFE.sub('_', workflow_id)}{SEPARATOR}{run_id}.json"


def workflow_id_of(path: Path) -> str:
    """The workflow id a history file was exported under (its name before ``__``)."""
    return path.stem.rsplit(SEPARATOR, 1)[0]


def write_history(directory: Path, history: WorkflowHistory, run_id: str) -> Path:
    path = directory / file_name(history.workflow_id, run_id)
    path.write_text(history.to_json() + "\n", encoding="utf-8")
    return path


def history_files(directory: Path) -> list[Path]:
    """Every ``*.json`` below ``directory``, in a stable order."""
    return sorted(directory.rglob("*.json"))


def read_history(path: Path) -> WorkflowHistory:
    """Load one exported history; a file that is not one is a HistoryFileError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        history = WorkflowHistory.from_json(workflow_id_of(path), data)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise HistoryFileError(f"{path}: not a workflow history ({error})") from None
    if not history.events:
        raise HistoryFileError(f"{path}: not a workflow history (no events)")
    return history
