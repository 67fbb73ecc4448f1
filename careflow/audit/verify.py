"""``careflow audit verify``: is this export what careflow wrote?

Each history file is ``verified`` (listed in a manifest whose signature holds, same sha256),
``modified`` (listed, different bytes), ``unsigned`` (not listed, or the manifest's signature
does not hold) or ``missing`` (listed, not there); a folder's continue-as-new chains must also be
complete. Only the public key is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from careflow.audit.chains import MissingRun, missing_runs
from careflow.audit.facts import facts_of
from careflow.audit.files import MANIFEST, history_files, load_histories
from careflow.audit.manifest import Manifest, file_sha256, read_manifest
from careflow.audit.signing import key_id

Verdict = Literal["verified", "modified", "unsigned", "missing"]


@dataclass
class Verification:
    """What verifying a folder (or one file of it) found."""

    manifest: Path
    files: list[tuple[str, Verdict]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the manifest as a whole
    missing_runs: list[MissingRun] = field(default_factory=list)
    redacted: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and not self.missing_runs
            and all(verdict == "verified" for _, verdict in self.files)
        )


def _signature_problem(manifest: Manifest, public: Ed25519PublicKey) -> str | None:
    given = key_id(public)
    if manifest.key_id != given:
        return (
            f"the manifest was signed with key {manifest.key_id}, but the public key given is "
            f"{given}"
        )
    if not manifest.signed_by(public):
        return "the manifest's signature does not hold: the manifest was altered after signing"
    return None


def verify(place: Path, public: Ed25519PublicKey) -> Verification:
    """Verify the folder ``place`` (or the one history file ``place`` and its folder's manifest)."""
    single = place.is_file() and place.name != MANIFEST
    folder = place.parent if place.is_file() else place
    result = Verification(manifest=folder / MANIFEST)
    manifest: Manifest | None = None
    if result.manifest.is_file():
        manifest = read_manifest(result.manifest)  # ManifestError: the caller says it
        problem = _signature_problem(manifest, public)
        if problem is not None:
            result.problems.append(problem)
        result.redacted = manifest.redacted
    else:
        result.problems.append(f"{result.manifest}: no manifest, so nothing here is signed")
    trusted = manifest is not None and not result.problems
    listed = manifest.files if manifest is not None else {}
    present = {p.relative_to(folder).as_posix(): p for p in history_files(place)}
    names = set(present) if single else set(present) | set(listed)
    for name in sorted(names):
        verdict: Verdict
        if name not in present:
            verdict = "missing"
        elif name not in listed or not trusted:
            verdict = "unsigned"
        elif file_sha256(present[name]) != listed[name].sha256:
            verdict = "modified"
        else:
            verdict = "verified"
        result.files.append((name, verdict))
    if not single:
        loaded = load_histories(folder)
        result.missing_runs = missing_runs(facts_of(h) for h in loaded.histories)
    return result
