"""``careflow audit replay`` on the recorded corpus, as an auditor runs it: every history in
tests/workflows/histories replays clean, and an encrypted one is replayed with its key and, without
it, named as locked with the key id it needs (not reported as non-deterministic or tampered)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.audit.cli import CAREFLOW
from tests.harness import CORPUS_TEST_KEYS, ENCRYPTED_HISTORIES, HISTORIES


def audit_replay(home: Path, place: Path, keys: str | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREFLOW_ENCRYPTION")}
    env["CAREFLOW_HOME"] = str(home)
    if keys is not None:
        env["CAREFLOW_ENCRYPTION_KEYS"] = keys
    done = subprocess.run(
        [str(CAREFLOW), "audit", "replay", str(place)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout


def test_the_whole_corpus_replays_clean(tmp_path: Path) -> None:
    code, out = audit_replay(tmp_path, HISTORIES)
    count = len(list(HISTORIES.rglob("*.json")))
    assert (code, out.splitlines()[-1]) == (
        0,
        f"replayed {count} histories: {count} clean, 0 non-deterministic",
    )


def test_an_encrypted_history_replays_with_its_key(tmp_path: Path) -> None:
    code, out = audit_replay(tmp_path, ENCRYPTED_HISTORIES, CORPUS_TEST_KEYS)
    assert (code, out.splitlines()[-1]) == (0, "replayed 1 histories: 1 clean, 0 non-deterministic")


def test_without_its_key_an_encrypted_history_is_named_not_failed(tmp_path: Path) -> None:
    code, out = audit_replay(tmp_path, ENCRYPTED_HISTORIES)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("ENCRYPTED ")]
    assert "key id 'corpus-test-only', not configured here" in line
    assert "CAREFLOW_ENCRYPTION_KEYS" in line
    assert "FAIL" not in out and "TAMPERED" not in out
    assert out.splitlines()[-1] == (
        "replayed 1 histories: 0 clean, 0 non-deterministic, "
        "1 encrypted with keys not configured (not replayed)"
    )
