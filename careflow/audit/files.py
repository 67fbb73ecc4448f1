"""Exported histories on disk: one JSON file per workflow run, in the format of the Temporal CLI
(``temporal workflow show --output json``) and UI, named ``<workflow id>__<run id>.json``.

What a file is comes from its content: the workflow id is read from the history's started event
(the file name is only a fallback for servers that do not record it), and a file that is not a
history is skipped with a warning, so one stray JSON file does not stop an audit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import WorkflowHistory

from careflow.audit.facts import facts_of, is_started

SEPARATOR = "__"
MANIFEST = "manifest.json"  # written beside the histories by `careflow audit export`
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


def history_files(place: Path) -> list[Path]:
    """``place`` itself when it is a file; else every ``*.json`` below it but the export's
    manifest, in a stable order."""
    if place.is_file():
        return [place]
    return sorted(p for p in place.rglob("*.json") if p.name != MANIFEST)


def read_history(path: Path) -> WorkflowHistory:
    """Load one exported history; a file that is not one is a HistoryFileError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        history = WorkflowHistory.from_json("", data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise HistoryFileError(f"{path}: not a workflow history ({error})") from None
    if not is_started(history):
        raise HistoryFileError(f"{path}: not a workflow history (no workflow-started event)")
    workflow_id = facts_of(history).workflow_id or workflow_id_of(path)
    return WorkflowHistory(workflow_id, history.events)


@dataclass
class LoadedHistories:
    """The histories found in a file or folder, and a warning for each file skipped."""

    histories: list[WorkflowHistory] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def load_histories(place: Path) -> LoadedHistories:
    """Every history in ``place`` (a file or a folder); files that are not histories are
    skipped, each with the reason."""
    loaded = LoadedHistories()
    for path in history_files(place):
        try:
            history = read_history(path)
        except HistoryFileError as error:
            loaded.skipped.append(str(error))
            continue
        loaded.histories.append(history)
        loaded.paths.append(path)
    return loaded
