"""Encryption at rest: a payload codec that compresses, then encrypts, every payload.

Customer posts, handles and the agents' replies travel as workflow payloads, which Temporal keeps
in its histories. With keys configured (``CAREFLOW_ENCRYPTION_KEYS`` or
``CAREFLOW_ENCRYPTION_KEY_FILE``) each payload is zlib-compressed and sealed with AES-256-GCM under
the first (current) key; its metadata names the key id, so after a rotation older payloads still
open with the older keys. Payloads without careflow's encoding pass through untouched: histories
written before encryption was turned on still replay.

Error messages name key ids and positions, never key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from careflow.settings import EncryptionSettings

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


def load_keys(settings: EncryptionSettings) -> tuple[EncryptionKey, ...]:
    """The configured keys, current first; none when encryption is off."""
    if settings.keys and settings.key_file:
        raise KeyConfigError(f"set {KEYS_VARIABLE} or {FILE_VARIABLE}, not both")
    if settings.keys:
        return parse_keys(settings.keys, KEYS_VARIABLE)
    if settings.key_file:
        path = Path(settings.key_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise KeyConfigError(f"{FILE_VARIABLE}: cannot read {path}: {reason}") from None
        return parse_keys(text, str(path), lines=True)
    return ()


def _associated_data(key_id: str) -> bytes:
    """Binds the ciphertext to its encoding and key id: editing the metadata breaks the seal."""
    return ENCODING + b":" + key_id.encode()


class EncryptionCodec(PayloadCodec):
    """zlib, then AES-256-GCM with a random 96-bit nonce: ``nonce || ciphertext+tag``."""

    def __init__(self, keys: Sequence[EncryptionKey]) -> None:
        if not keys:
            raise KeyConfigError("an encryption codec needs at least one key")
        self.current = keys[0]
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
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]


def codec_from_settings(settings: EncryptionSettings) -> EncryptionCodec | None:
    """The codec for the configured keys, or None when encryption is off."""
    keys = load_keys(settings)
    return EncryptionCodec(keys) if keys else None
