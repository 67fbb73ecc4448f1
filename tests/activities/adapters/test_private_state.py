"""What the adapters keep under $CAREFLOW_HOME (the sandbox outbox holds customers' words) is
readable by its owner alone: a new home is 0700 and each file 0600, an old file is tightened, and
a folder that already existed keeps its mode."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from activities.adapters.record import DeliveryRecord
from activities.adapters.sandbox import SandboxAdapter
from activities.types import Outbound
from careflow.local_state import private_file, private_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def reply(key: str) -> Outbound:
    return Outbound(
        key=key,
        kind="reply",
        channel="x",
        conversation_id="c-1",
        in_reply_to="t-1",
        recipient="lena",
        text="Sorry about the parcel, Lena — we're on it.",
    )


def test_the_sandbox_outbox_and_a_new_home_are_private(tmp_path: Path) -> None:
    home = tmp_path / "state" / "home"
    adapter = SandboxAdapter(home / "outbox.jsonl")
    asyncio.run(adapter.deliver(reply("inquiry-x-c-1/1"), "Sorry about the parcel"))
    assert mode(home / "outbox.jsonl") == 0o600
    assert mode(home) == 0o700 and mode(home.parent) == 0o700


def test_an_outbox_from_before_is_tightened_and_keeps_its_lines(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    adapter = SandboxAdapter(outbox)
    asyncio.run(adapter.deliver(reply("inquiry-x-c-1/1"), "first"))
    outbox.chmod(0o644)  # as careflow left it before its files were private
    again = SandboxAdapter(outbox)
    delivered = asyncio.run(again.deliver(reply("inquiry-x-c-1/2"), "second"))
    assert mode(outbox) == 0o600
    assert not delivered.duplicate
    assert len(outbox.read_text().splitlines()) == 2


def test_the_delivery_record_is_private(tmp_path: Path) -> None:
    record = DeliveryRecord(tmp_path / "home" / "deliveries.sqlite3")
    record.add("inquiry-x-c-1/1", "1860000000000000001", "x", "reply")
    assert mode(record.path) == 0o600
    assert record.find("inquiry-x-c-1/1") == "1860000000000000001"


def test_a_folder_that_already_existed_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private_file(shared / "api-tokens")
    assert mode(shared) == 0o755
    assert mode(shared / "api-tokens") == 0o600
    assert private_folder(shared) == shared and mode(shared) == 0o755
