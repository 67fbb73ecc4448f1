"""``careflow audit export``: histories by workflow id or by visibility query, one file each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from temporalio.client import Client
from temporalio.converter import PayloadCodec

from careflow.audit.decrypt import decrypt_history
from careflow.audit.files import write_history
from workflows.messages import WORKFLOW_NAME


@dataclass(frozen=True)
class Run:
    """One workflow run to export (a long inquiry that continued as new has several)."""

    workflow_id: str
    run_id: str


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_query(ids: list[str], query: str | None, since: datetime | None) -> str:
    """The list filter for the inquiries asked for: ids, a user query, a start-time bound."""
    parts = [f"WorkflowType={_quoted(WORKFLOW_NAME)}"]
    if ids:
        parts.append("(" + " OR ".join(f"WorkflowId={_quoted(i)}" for i in ids) + ")")
    if query:
        parts.append(f"({query})")
    if since is not None:
        parts.append(f"StartTime >= {_quoted(since.isoformat())}")
    return " AND ".join(parts)


async def find_runs(client: Client, query: str) -> list[Run]:
    """Every run the visibility query matches, oldest first."""
    found = [(w.start_time, Run(w.id, w.run_id)) async for w in client.list_workflows(query)]
    return [run for _, run in sorted(found, key=lambda pair: pair[0])]


async def export_runs(
    client: Client,
    runs: list[Run],
    out: Path,
    advance: Callable[[], None] = lambda: None,
    decrypt_with: PayloadCodec | None = None,
) -> list[Path]:
    """Write each run's history to ``out`` (as stored, or decrypted with ``decrypt_with``);
    ``advance`` ticks a progress bar."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for run in runs:
        handle = client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
        history = await handle.fetch_history()
        if decrypt_with is not None:
            history = await decrypt_history(history, decrypt_with)
        written.append(write_history(out, history, run.run_id))
        advance()
    return written
