"""``CareCustomer`` as a keyed hash: visibility can find a customer's inquiries, but holds no
platform user id.

An inquiry's ``CareCustomer`` is ``<platform>:h:<HMAC-SHA256 of "<platform>:<user id>">`` (hex),
made with a secret only careflow's processes hold (``CAREFLOW_CUSTOMER_KEY``, the file
``CAREFLOW_CUSTOMER_KEY_FILE`` names, else ``$CAREFLOW_HOME/customer.key``, made 0600 by
``careflow up`` or on first use). Without the key, the value cannot be tied back to a person,
nor can a guessed id be checked against it.

Inquiries started before the hash carry ``<platform>:<user id>`` in clear, and older keys may
still be on inquiries started before a key change: every lookup matches all of them
(``CustomerId.clause``), so a DM still finds the public inquiry that invited it, and erasing
still finds every history.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from careflow.errors import ConfigurationError
from careflow.local_state import create_private_once
from careflow.settings import CustomerKeySettings
from workflows import search

# A platform's public and private channels that share the customer's id (page-scoped on Meta).
CUSTOMER_FAMILY = {"messenger": "facebook"}
# A raw ``<platform>:<id>`` value may go in a visibility query only when it is this plain.
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,200}$")
SAFE_PLATFORM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HASHED = "h"  # ``x:h:<hex>``: the marker that tells a hash from a raw id
MIN_KEY_LENGTH = 32  # characters of a configured key: `openssl rand -hex 32` gives 64
KEY_VARIABLE = "CAREFLOW_CUSTOMER_KEY"
FILE_VARIABLE = "CAREFLOW_CUSTOMER_KEY_FILE"


@dataclass(frozen=True)
class CustomerId:
    """One customer as visibility knows them: the value a new inquiry gets, and every value an
    inquiry of theirs may carry (the hash under each key, the raw id of older inquiries)."""

    stored: str
    matches: tuple[str, ...]

    @property
    def clause(self) -> str:
        """The visibility condition that finds this customer's inquiries, old and new."""
        quoted = ", ".join(f"'{value}'" for value in self.matches)
        return f"{search.CUSTOMER.name} IN ({quoted})"


@dataclass(frozen=True)
class CustomerIds:
    """Turns a platform user id into a ``CustomerId`` with the process's keys, current first."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("CustomerIds needs at least one key")

    def of(self, channel: str, person: str) -> CustomerId | None:
        """The customer ``person`` of ``channel`` (a DM on Messenger and a Facebook comment are
        one platform's); None for no id or a channel name unfit for a query."""
        platform = CUSTOMER_FAMILY.get(channel, channel)
        if not person or not SAFE_PLATFORM.match(platform):
            return None
        hashed = [f"{platform}:{HASHED}:{_digest(key, platform, person)}" for key in self.keys]
        raw = f"{platform}:{person}"
        legacy = [raw] if SAFE_KEY.match(raw) else []
        return CustomerId(stored=hashed[0], matches=tuple(dict.fromkeys(hashed + legacy)))


def _digest(key: bytes, platform: str, person: str) -> str:
    return hmac.new(key, f"{platform}:{person}".encode(), hashlib.sha256).hexdigest()


def customer_ids(settings: CustomerKeySettings, *, make: bool = True) -> CustomerIds:
    """The configured keys, else the home's key file (made now when absent, if ``make``; a
    lookup-only command must not hash with a key nobody stored with). Raises
    ``ConfigurationError`` naming the variable or file when a key cannot be used."""
    if settings.keys and settings.key_file:
        raise ConfigurationError(f"set {KEY_VARIABLE} or {FILE_VARIABLE}, not both")
    if settings.keys:
        return CustomerIds(_parsed(settings.keys.split(","), KEY_VARIABLE))
    path = settings.key_file
    if path is None:
        if settings.local_key is None:
            raise ConfigurationError(f"no customer key: set {KEY_VARIABLE} or {FILE_VARIABLE}")
        path = settings.local_key
        if not make and not path.exists():
            raise ConfigurationError(
                f"no customer key: {KEY_VARIABLE} and {FILE_VARIABLE} are unset and {path} does "
                "not exist; use the key the intake hashes with"
            )
        try:
            ensure_customer_key(path)
        except OSError as error:
            raise ConfigurationError(
                f"cannot keep the customer key in {path.parent}: {error.strerror}"
            ) from None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigurationError(f"cannot read the customer key {path}: {reason}") from None
    return CustomerIds(_parsed([ln for ln in lines if not ln.lstrip().startswith("#")], str(path)))


def _parsed(entries: list[str], where: str) -> tuple[bytes, ...]:
    keys = [entry.strip() for entry in entries if entry.strip()]
    if not keys:
        raise ConfigurationError(f"{where} holds no customer key")
    for number, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigurationError(
                f"{where}: customer key {number} is {len(key)} characters; give at least "
                f"{MIN_KEY_LENGTH} (e.g. `openssl rand -hex 32`)"
            )
    return tuple(key.encode() for key in keys)


def ensure_customer_key(path: Path) -> bool:
    """Make ``path`` hold a new random key, 0600 in a 0700 folder, unless it exists; True when
    made now. Written beside and linked into place: two processes starting at once keep one."""
    text = (
        "# careflow made this key. CareCustomer holds each customer's id hashed with it:\n"
        "# every careflow process must use the same one, or a DM will not find its inquiry\n"
        "# and erasing a customer will miss theirs. Keep it private; back it up.\n"
        f"{secrets.token_hex(32)}\n"
    )
    return create_private_once(path, text.encode("utf-8"))
