"""An export's manifest: each history file's sha256, what was done to the export (decrypted,
redacted), and an Ed25519 signature over all of it.

Signed bytes are the manifest's canonical JSON (sorted keys, no spaces) without the signature;
verification recomputes them, so reformatting the manifest does not break it but changing any
value does.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from careflow.audit.files import MANIFEST
from careflow.audit.signing import key_id, signature_holds


class ManifestError(ValueError):
    """A manifest that cannot be read, said with its path."""


class FileEntry(BaseModel):
    sha256: str
    workflow_id: str
    run_id: str


class Manifest(BaseModel):
    """What ``careflow audit export`` vouches for."""

    format: Literal["careflow-export/1"] = "careflow-export/1"
    created_at: datetime
    key_id: str
    decrypted: bool
    redacted: bool  # redacted histories do not replay: their customer text is masked
    files: dict[str, FileEntry]  # by path relative to the manifest's folder
    signature: str = ""  # base64 Ed25519 over signed_bytes()

    def signed_bytes(self) -> bytes:
        body = self.model_dump(mode="json", exclude={"signature"})
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, public: Ed25519PublicKey) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        return signature_holds(public, signature, self.signed_bytes())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def signed_manifest(
    key: Ed25519PrivateKey,
    files: dict[str, FileEntry],
    *,
    created_at: datetime,
    decrypted: bool,
    redacted: bool,
) -> Manifest:
    manifest = Manifest(
        created_at=created_at,
        key_id=key_id(key.public_key()),
        decrypted=decrypted,
        redacted=redacted,
        files=files,
    )
    signature = base64.b64encode(key.sign(manifest.signed_bytes())).decode()
    return manifest.model_copy(update={"signature": signature})


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    path.write_text(manifest.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> Manifest:
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"{path}: cannot read ({error.strerror})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise ManifestError(
            f"{path}: not a careflow export manifest ({where}: {first['msg']})"
        ) from None
