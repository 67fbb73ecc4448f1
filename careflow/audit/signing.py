"""The Ed25519 key that signs export manifests, so an auditor holding only the public key can
tell an export from an edited copy.

The private key lives in ``$CAREFLOW_HOME/audit-signing.key`` (0600, made on first export) or the
PEM file ``CAREFLOW_AUDIT_SIGNING_KEY_FILE`` names; its public half is written beside it as
``audit-signing.pub`` to hand to auditors. A key id (the public key's sha256, shortened) in each
manifest says which key signed it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from careflow.local_state import create_private_once

PUBLIC_SUFFIX = ".pub"


class SigningKeyError(ValueError):
    """A key file that cannot be used, said with its path."""


def key_id(public: Ed25519PublicKey) -> str:
    """``ed25519:<first 16 hex of the raw public key's sha256>``."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.stem + PUBLIC_SUFFIX)


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path``, made (0600, its public half beside it) when absent."""
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_private_once(path, pem)  # two exports at once keep one key, not one each
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"{path}: not a usable signing key ({error})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 private key")
    public = public_key_path(path)
    if not public.exists():
        public.write_bytes(_public_pem(loaded.public_key()))
    return loaded


def public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path``."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise SigningKeyError(f"{path}: cannot read the public key ({error.strerror})") from None
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path}: not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path}: not an Ed25519 public key")
    return key


def signature_holds(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True
