"""Where past inquiries come from: a folder of exported histories, or the server (by start
time and an optional visibility query), as ``careflow audit export`` and ``replay`` read them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter

from careflow.audit.export import find_runs, visibility_query
from careflow.audit.files import HistoryFileError, history_files, read_history
from careflow.whatif.recorded import HistoryReadError, Recorded, recorded_inquiries


class SourceError(ValueError):
    """Histories that cannot be read, said with the file or workflow."""


async def from_folder(directory: Path, converter: DataConverter) -> list[Recorded]:
    """Every inquiry exported under ``directory`` (a continue-as-new chain's runs joined)."""
    if not directory.is_dir():
        raise SourceError(f"{directory}: no such folder")
    try:
        histories = [read_history(path) for path in history_files(directory)]
    except HistoryFileError as error:
        raise SourceError(str(error)) from None
    if not histories:
        raise SourceError(f"{directory}: no *.json histories in it")
    return await _read(converter, histories)


async def from_server(
    client: Client, converter: DataConverter, query: str | None, since: datetime
) -> list[Recorded]:
    """Every inquiry started since ``since`` (and matching ``query``), its histories fetched."""
    runs = await find_runs(client, visibility_query([], query, since))
    histories = [
        await client.get_workflow_handle(run.workflow_id, run_id=run.run_id).fetch_history()
        for run in runs
    ]
    return await _read(converter, histories)


async def _read(converter: DataConverter, histories: list[WorkflowHistory]) -> list[Recorded]:
    try:
        return await recorded_inquiries(converter, histories)
    except HistoryReadError as error:
        raise SourceError(str(error)) from None
