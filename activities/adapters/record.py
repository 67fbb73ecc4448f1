"""The delivery record: which idempotency keys (and parts of them) a platform has accepted,
and which posts were attempted without an answer yet.

Neither X nor Meta takes an idempotency key, so the adapter keeps its own, in
``$CAREFLOW_HOME/deliveries.sqlite3``: an *intent* is written before each post and a *delivery*
after the platform's 2xx. An intent with no delivery means an earlier attempt may have reached
the platform (its worker died, or its answer was lost): the next attempt looks for the post on
the platform before posting again (``reconcile``).
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
            if "found" not in columns:  # a record from before reconciling
                db.execute("ALTER TABLE deliveries ADD COLUMN found INTEGER NOT NULL DEFAULT 0")
            db.execute("CREATE INDEX IF NOT EXISTS deliveries_by_id ON deliveries (id)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS intents ("
                " key TEXT PRIMARY KEY, at TEXT NOT NULL, channel TEXT NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def forget_inquiry(self, workflow_id: str) -> int:
        """Delete every delivery and intent of inquiry ``workflow_id`` (their keys start
        ``<workflow id>/``), for ``careflow audit erase``; how many rows went."""
        prefix = f"{workflow_id}/"
        with closing(self._connect()) as db, db:
            gone = 0
            for table in ("deliveries", "intents"):
                gone += db.execute(
                    f"DELETE FROM {table} WHERE substr(key, 1, ?) = ?",
                    (len(prefix), prefix),
                ).rowcount
        return gone

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

    def add(
        self,
        key: str,
        id: str,
        channel: str,
        kind: str,
        link: str | None = None,
        found: bool = False,
    ) -> None:
        """Remember a delivery (a key already there keeps its first id); its intent is done.
        ``found``: an earlier attempt's post, found on the platform, not posted now."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO deliveries (key, id, channel, kind, at, link, found)"
                " VALUES (?,?,?,?,?,?,?)",
                (key, id, channel, kind, datetime.now(UTC).isoformat(), link, int(found)),
            )
            db.execute("DELETE FROM intents WHERE key = ?", (key,))

    def all_found(self, key: str) -> bool:
        """Whether the delivery's posts (the key, else its parts) were all found on the
        platform rather than posted: a retry that posted nothing."""
        prefix = f"{key}#"
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT found FROM deliveries WHERE key = ? OR substr(key, 1, ?) = ?",
                (key, len(prefix), prefix),
            ).fetchall()
        return bool(rows) and all(row[0] for row in rows)

    def intend(self, key: str, channel: str) -> None:
        """Note that ``key`` is about to be posted, before the request leaves (the first
        attempt's time is kept: a post found on the platform is no older than it)."""
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO intents (key, at, channel) VALUES (?,?,?)",
                (key, datetime.now(UTC).isoformat(), channel),
            )

    def intent(self, key: str) -> datetime | None:
        """When ``key`` was first attempted, if an attempt was made and never recorded."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT at FROM intents WHERE key = ?", (key,)).fetchone()
        return None if row is None else datetime.fromisoformat(str(row[0]))

    def holds(self, id: str) -> bool:
        """Whether a platform id is already recorded under some key (a post found on the
        platform belongs to one key only)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT 1 FROM deliveries WHERE id = ? LIMIT 1", (id,)).fetchone()
        return row is not None
