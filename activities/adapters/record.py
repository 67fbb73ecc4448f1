"""The delivery record: which idempotency keys (and parts of them) a platform has accepted.

Neither X nor Meta takes an idempotency key, so the adapter keeps its own, in
``$CAREFLOW_HOME/deliveries.sqlite3``, checked before posting and written after the platform's
2xx.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from careflow.local_state import private_file


class DeliveryRecord:
    """Delivered idempotency keys in a SQLite file: ``key`` is the primary key.

    SQLite serialises writers across worker processes sharing ``$CAREFLOW_HOME``; only the key,
    the platform id, the channel, the time and a chat session's link are kept — no customer text.
    A delivery in several posts keeps each under ``<key>#<n>`` (``<key>#pointer`` for the public
    pointer to a DM); ``private-reply/<channel>/<comment>`` marks a comment's one Private Reply.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        private_file(path)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS deliveries ("
                " key TEXT PRIMARY KEY, id TEXT NOT NULL, channel TEXT NOT NULL,"
                " kind TEXT NOT NULL, at TEXT NOT NULL, link TEXT)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
            if "link" not in columns:  # a record from before chat links
                db.execute("ALTER TABLE deliveries ADD COLUMN link TEXT")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def find(self, key: str) -> str | None:
        """The platform id the key was delivered as, if it was."""
        found = self.entry(key)
        return None if found is None else found[0]

    def entry(self, key: str) -> tuple[str, str | None] | None:
        """The platform id and link the key was delivered with, if it was."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, link FROM deliveries WHERE key = ?", (key,)).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def parts(self, key: str) -> dict[str, str]:
        """The posts recorded under ``<key>#…``: suffix → platform id."""
        prefix = f"{key}#"
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT key, id FROM deliveries WHERE substr(key, 1, ?) = ?",
                (len(prefix), prefix),
            ).fetchall()
        return {str(row[0])[len(prefix) :]: str(row[1]) for row in rows}

    def add(self, key: str, id: str, channel: str, kind: str, link: str | None = None) -> None:
        """Remember a delivery (a key already there keeps its first id)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO deliveries (key, id, channel, kind, at, link)"
                " VALUES (?,?,?,?,?,?)",
                (key, id, channel, kind, datetime.now(UTC).isoformat(), link),
            )
