"""The ``sandbox`` channel adapter: every post is a line in ``$CAREFLOW_HOME/outbox.jsonl``.

It stands in for the platforms until real adapters exist, and keeps their contract: a key that
was already delivered is not posted again (several worker processes may share the file; an
exclusive lock serialises them).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activities.types import Delivery, Outbound
from careflow.local_state import private_file


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """Every line of an outbox file, oldest first (a missing file is an empty outbox)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def forget_inquiry(path: Path, workflow_id: str) -> int:
    """Remove inquiry ``workflow_id``'s lines from an outbox (their keys start
    ``<workflow id>/``), for ``careflow audit erase``; how many lines went."""
    entries = read_outbox(path)
    kept = [e for e in entries if not str(e.get("key", "")).startswith(f"{workflow_id}/")]
    if len(kept) != len(entries):
        draft = path.with_name(f".{path.name}.erase")
        draft.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept))
        draft.chmod(0o600)
        draft.replace(path)
    return len(entries) - len(kept)


class SandboxAdapter:
    """Appends deliveries to a JSON-lines file, at most once per idempotency key."""

    name = "sandbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._delivered: dict[str, Delivery] = {}
        self._read_up_to = 0
        self._private = False  # the outbox made private (once per adapter)

    def _catch_up(self, handle: Any) -> None:
        """Index lines other processes appended since we last looked."""
        handle.seek(self._read_up_to)
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                self._delivered[entry["key"]] = Delivery(
                    key=entry["key"], id=entry["id"], text=entry["text"], duplicate=True
                )
        self._read_up_to = handle.tell()

    async def deliver(self, outbound: Outbound, text: str) -> Delivery:
        if not self._private:
            private_file(self.path)  # customers' words: for the owner's eyes only
            self._private = True
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._catch_up(handle)
                if outbound.key in self._delivered:
                    return self._delivered[outbound.key]
                entry = {
                    "key": outbound.key,
                    "id": "sandbox-" + hashlib.sha256(outbound.key.encode()).hexdigest()[:16],
                    "at": datetime.now(UTC).isoformat(),
                    "kind": outbound.kind,
                    "channel": outbound.channel,
                    "conversation_id": outbound.conversation_id,
                    "in_reply_to": outbound.in_reply_to,
                    "to": outbound.target or outbound.recipient,
                    "private": outbound.private,
                    "text": text,
                }
                if outbound.transcript:
                    entry["transcript"] = outbound.transcript
                if outbound.feedback is not None:  # Messenger's customer-feedback template
                    entry["feedback"] = outbound.feedback.model_dump()
                handle.seek(0, 2)
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                handle.flush()
                self._read_up_to = handle.tell()
                delivery = Delivery(key=outbound.key, id=entry["id"], text=text)
                self._delivered[outbound.key] = delivery.model_copy(update={"duplicate": True})
                return delivery
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    async def aclose(self) -> None:
        """Nothing to release: each delivery opens and closes the outbox file."""
