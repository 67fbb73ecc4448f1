"""``careflow audit export``: histories by workflow id or by visibility query, one file each,
and a signed manifest of them (``careflow.audit.manifest``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from careflow.audit.decrypt import decrypt_history
from careflow.audit.files import write_history
from careflow.audit.manifest import FileEntry, file_sha256, signed_manifest, write_manifest
from careflow.audit.redact import redact_history
from workflows.messages import WORKFLOW_NAME


@dataclass(frozen=True)
class Run:
    """One workflow run to export (a long inquiry that continued as new has several)."""

    workflow_id: str
    run_id: str
    first_run_id: str = ""  # the chain it belongs to ("" when visibility does not say)


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


async def _first_run_id(client: Client, workflow_id: str, run_id: str) -> str:
    """The first run of the chain ``run_id`` belongs to, from its started event (visibility
    does not always say)."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events(page_size=1):
        started = event.workflow_execution_started_event_attributes
        return started.first_execution_run_id or run_id
    return run_id


async def _listed(client: Client, query: str) -> list[tuple[datetime, Run]]:
    found: list[tuple[datetime, Run]] = []
    async for w in client.list_workflows(query):
        first = w.raw_info.first_run_id or await _first_run_id(client, w.id, w.run_id)
        found.append((w.start_time, Run(w.id, w.run_id, first)))
    return found


async def find_runs(client: Client, query: str) -> list[Run]:
    """Every run the visibility query matches, oldest first."""
    return [run for _, run in sorted(await _listed(client, query), key=lambda pair: pair[0])]


async def with_whole_chains(client: Client, runs: list[Run]) -> list[Run]:
    """``runs`` and every other run of their continue-as-new chains, oldest first: a time
    bound (``--since``) matches a long inquiry's latest runs, but its story starts earlier."""
    chains = {(run.workflow_id, run.first_run_id) for run in runs}
    if not chains:
        return runs
    ids = sorted({workflow_id for workflow_id, _ in chains})
    listed = await _listed(client, visibility_query(ids, None, None))
    wanted = [pair for pair in listed if (pair[1].workflow_id, pair[1].first_run_id) in chains]
    known = {run.run_id for _, run in wanted}
    wanted += [(datetime.min.replace(tzinfo=UTC), run) for run in runs if run.run_id not in known]
    return [run for _, run in sorted(wanted, key=lambda pair: pair[0])]


async def export_runs(
    client: Client,
    runs: list[Run],
    out: Path,
    advance: Callable[[], None] = lambda: None,
    decrypt_with: PayloadCodec | None = None,
    *,
    redact: bool = False,
    sign_with: Ed25519PrivateKey | None = None,
) -> list[Path]:
    """Write each run's history to ``out`` (as stored, decrypted with ``decrypt_with``, and
    redacted with ``redact``), then the manifest signed with ``sign_with``; ``advance`` ticks a
    progress bar. RedactError when redacting encrypted payloads without a codec."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries: dict[str, FileEntry] = {}
    for run in runs:
        handle = client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
        history = await handle.fetch_history()
        if decrypt_with is not None:
            history = await decrypt_history(history, decrypt_with)
        if redact:
            history = redact_history(history)
        path = write_history(out, history, run.run_id)
        written.append(path)
        entries[path.name] = FileEntry(
            sha256=file_sha256(path), workflow_id=run.workflow_id, run_id=run.run_id
        )
        advance()
    if sign_with is not None:
        manifest = signed_manifest(
            sign_with,
            entries,
            created_at=datetime.now(UTC),
            decrypted=decrypt_with is not None,
            redacted=redact,
        )
        write_manifest(out, manifest)
    return written
