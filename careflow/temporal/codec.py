"""Encryption at rest: a payload codec that compresses, then encrypts, every payload.

Customer posts, handles and the agents' replies travel as workflow payloads, which Temporal keeps
in its histories. With keys configured (``CAREFLOW_ENCRYPTION_KEYS`` or
``CAREFLOW_ENCRYPTION_KEY_FILE``) each payload is zlib-compressed and sealed with AES-256-GCM under
the first (current) key; its metadata names the key id, so after a rotation older payloads still
open with the older keys. Payloads without careflow's encoding pass through untouched: histories
written before encryption was turned on still replay.

Without configured keys, the key ``careflow up`` made in ``$CAREFLOW_HOME/encryption.key`` is
used (``ensure_local_key``), so customer text is never stored in clear unless
``CAREFLOW_ENCRYPTION=off``; then nothing new is encrypted, but the keys there are still open
older payloads.

Error messages name key ids and positions, never key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from careflow.local_state import create_private_once
from careflow.settings import ENCRYPTION_SWITCH, EncryptionSettings

ENCODING = b"binary/careflow-encrypted"
KEY_ID = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")  # shorter than any key's base64
GENERATE = 'python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'
KEYS_VARIABLE = "CAREFLOW_ENCRYPTION_KEYS"
FILE_VARIABLE = "CAREFLOW_ENCRYPTION_KEY_FILE"


class KeyConfigError(ValueError):
    """Keys that cannot be used, said in one line that never shows key material."""


class CodecError(ValueError):
    """A payload that cannot be decrypted: altered, truncated, or sealed by a key we lack."""


@dataclass(frozen=True)
class EncryptionKey:
    """One AES-256 key and the id payloads record; the secret stays out of ``repr``."""

    id: str
    secret: bytes = field(repr=False)


def _parse_entry(entry: str, where: str) -> EncryptionKey:
    key_id, equals, material = (part.strip() for part in entry.partition("="))
    if not equals or not material:
        raise KeyConfigError(
            f"{where}: expected ID=BASE64_KEY (for example k1=<key from {GENERATE}>)"
        )
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyConfigError(
            f"{where}: the key id must be 1-32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    try:
        secret = base64.b64decode(material, validate=True)
    except binascii.Error:
        raise KeyConfigError(f"{where}: key {key_id!r} is not valid base64") from None
    if len(secret) != KEY_BYTES:
        raise KeyConfigError(
            f"{where}: key {key_id!r} is {len(secret)} bytes; AES-256-GCM needs {KEY_BYTES} "
            f"(generate one with {GENERATE})"
        )
    return EncryptionKey(key_id, secret)


def parse_keys(text: str, source: str, *, lines: bool = False) -> tuple[EncryptionKey, ...]:
    """Keys from ``id=base64`` entries, the first being current.

    Entries are separated by commas; with ``lines`` (a key file) also by newlines, and ``#``
    starts a comment. ``source`` names where the text came from, for the error messages.
    """
    entries: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines() if lines else [text], start=1):
        content = line.split("#", 1)[0] if lines else line
        for entry in content.split(","):
            if entry.strip():
                where = f"{source}:{number}" if lines else f"{source}, entry {len(entries) + 1}"
                entries.append((entry, where))
    if not entries:
        raise KeyConfigError(f"{source} holds no keys (expected ID=BASE64_KEY entries)")
    keys: list[EncryptionKey] = []
    for entry, where in entries:
        key = _parse_entry(entry, where)
        if any(key.id == seen.id for seen in keys):
            raise KeyConfigError(f"{where}: key id {key.id!r} appears twice; ids must be unique")
        keys.append(key)
    return tuple(keys)


def _read_key_file(path: Path, what: str) -> tuple[EncryptionKey, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise KeyConfigError(f"{what}: cannot read {path}: {reason}") from None
    return parse_keys(text, str(path), lines=True)


def local_key_in_use(settings: EncryptionSettings) -> Path | None:
    """The home's own key file when it is the one used: no keys set, and it exists."""
    if settings.configured or settings.local_key is None or not settings.local_key.exists():
        return None
    return settings.local_key


def load_keys(settings: EncryptionSettings) -> tuple[EncryptionKey, ...]:
    """The keys that open payloads, current first: the configured ones, else the home's own
    (``careflow up`` made it); none when there are neither."""
    if settings.keys and settings.key_file:
        raise KeyConfigError(f"set {KEYS_VARIABLE} or {FILE_VARIABLE}, not both")
    if settings.keys:
        return parse_keys(settings.keys, KEYS_VARIABLE)
    if settings.key_file:
        return _read_key_file(Path(settings.key_file), FILE_VARIABLE)
    local = local_key_in_use(settings)
    if local is not None:
        return _read_key_file(local, "the local key (careflow up made it)")
    return ()


def key_source(settings: EncryptionSettings) -> str:
    """Where the keys come from, for the banner and the logs (never the keys)."""
    if settings.keys:
        return KEYS_VARIABLE
    if settings.key_file:
        return f"{FILE_VARIABLE} {settings.key_file}"
    local = local_key_in_use(settings)
    return f"{local}, made by careflow up" if local is not None else "no keys"


def ensure_local_key(path: Path) -> bool:
    """Make ``path`` hold a new key (``local-<hex>=<base64>``), 0600 in a 0700 folder, unless it
    exists; True when it was made now.

    The key is written to a private file beside it and linked into place, so a reader never
    sees half a key and two starts at once keep one key, not one each.
    """
    key_id = f"local-{secrets.token_hex(4)}"
    material = base64.b64encode(os.urandom(KEY_BYTES)).decode()
    text = (
        "# careflow up made this key. It encrypts every payload this home's Temporal stores:\n"
        "# without it they cannot be read. Keep it private and back it up with the data.\n"
        f"# {ENCRYPTION_SWITCH}=off stops encrypting; CAREFLOW_ENCRYPTION_KEYS replaces it.\n"
        f"{key_id}={material}\n"
    )
    return create_private_once(path, text.encode("utf-8"))


def _associated_data(key_id: str) -> bytes:
    """Binds the ciphertext to its encoding and key id: editing the metadata breaks the seal."""
    return ENCODING + b":" + key_id.encode()


class EncryptionCodec(PayloadCodec):
    """zlib, then AES-256-GCM with a random 96-bit nonce: ``nonce || ciphertext+tag``."""

    def __init__(self, keys: Sequence[EncryptionKey], *, encrypt: bool = True) -> None:
        """With ``encrypt`` off (``CAREFLOW_ENCRYPTION=off``) ``encode`` leaves payloads in
        clear and the keys only decrypt: what they sealed before stays readable."""
        if not keys:
            raise KeyConfigError("an encryption codec needs at least one key")
        self.current = keys[0]
        self.encrypting = encrypt
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec opens, current first (safe to print)."""
        return list(self._ciphers)

    def encrypt(self, payload: Payload) -> Payload:
        plain = zlib.compress(payload.SerializeToString())
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.current.id
        sealed = self._ciphers[key_id].encrypt(nonce, plain, _associated_data(key_id))
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on, or not a careflow payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(
                f"a payload is encrypted with key id {key_id!r}, which is not configured "
                f"(configured: {', '.join(self.key_ids)}): add that key after the current one"
            )
        if len(payload.data) <= NONCE_BYTES:
            raise CodecError(f"a payload encrypted with key id {key_id!r} is truncated")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, _associated_data(key_id))
        except InvalidTag:
            raise CodecError(
                f"a payload encrypted with key id {key_id!r} failed authentication: it was "
                "altered, or the key configured under that id is not the one that sealed it"
            ) from None
        try:
            return Payload.FromString(zlib.decompress(plain))
        except (zlib.error, DecodeError):
            raise CodecError(f"a payload sealed with key id {key_id!r} holds no payload") from None

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not self.encrypting:
            return list(payloads)
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]


def codec_from_settings(settings: EncryptionSettings) -> EncryptionCodec | None:
    """The codec for the keys in use, or None when there are none."""
    keys = load_keys(settings)
    return EncryptionCodec(keys, encrypt=settings.enabled) if keys else None
