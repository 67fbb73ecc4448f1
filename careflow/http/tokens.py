"""Bearer tokens for the agent API: who is calling, and in which role.

Entries read ``token=role:name``: from ``CAREFLOW_API_TOKENS`` (comma-separated) and from the file
``CAREFLOW_API_TOKENS_FILE`` names (one a line; blank lines and ``#`` comments are skipped). The
name is the agent whose signature goes on replies. A bad entry is named by its position (or
``file:line``), never by its token, so error messages and logs never hold a secret; ``Tokens``
keeps the tokens out of its repr, and a lookup compares every token in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from careflow.settings import ApiTokenSettings

Role = Literal["agent", "supervisor", "auditor", "reviewer"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "auditor", "reviewer")
ENV = "CAREFLOW_API_TOKENS"
FILE_ENV = "CAREFLOW_API_TOKENS_FILE"
TOKEN_ID_DIGITS = 12  # enough to tell tokens apart in an audit, far too few to find one


class TokenError(Exception):
    """A token entry that cannot be used; the message names where it is (never the token)."""


@dataclass(frozen=True)
class Caller:
    """Who a valid token stands for: the agent's name (their signature) and their role, and
    the token's id (``TOKEN_ID_DIGITS`` hex digits of its sha256) that actions record."""

    name: str
    role: Role
    token_id: str = field(default="", compare=False)


class Tokens:
    """The configured tokens; ``caller(offered)`` says whose a token is, or None."""

    def __init__(self, entries: list[tuple[str, Caller]]) -> None:
        # Digests, so that every comparison takes the same time whatever the offered length.
        self._entries = [(_digest(token), caller) for token, caller in entries]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Tokens({len(self._entries)} configured)"

    def caller(self, offered: str) -> Caller | None:
        """Compare against every token (no early exit), so timing says nothing of which matched."""
        digest = _digest(offered)
        found: Caller | None = None
        for expected, caller in self._entries:
            if hmac.compare_digest(digest, expected):
                found = caller
        return found

    def caller_by_digest(self, digest: str) -> Caller | None:
        """Whose token has this sha256 (hex): how a console session names its token without
        holding it. Constant time over every entry, like ``caller``."""
        try:
            wanted = bytes.fromhex(digest)
        except ValueError:
            return None
        found: Caller | None = None
        for expected, caller in self._entries:
            if hmac.compare_digest(wanted, expected):
                found = caller
        return found

    def secret(self, purpose: str) -> bytes:
        """A key derived from every configured token, for ``purpose`` (e.g. signing console
        sessions): secret as long as the tokens are, the same in every process that has them,
        and new ones invalidate what the old key signed."""
        material = b"".join(sorted(expected for expected, _ in self._entries))
        return hmac.new(material, purpose.encode("utf-8"), hashlib.sha256).digest()

    def names(self, roles: frozenset[Role]) -> list[str]:
        """The people whose tokens have one of ``roles``, sorted: whose load the supervisor
        view counts."""
        return sorted({caller.name for _, caller in self._entries if caller.role in roles})

    def roles(self) -> str:
        """How many tokens each role has, e.g. ``1 agent, 1 auditor`` (for start-up lines)."""
        counts = Counter(caller.role for _, caller in self._entries)
        return ", ".join(f"{count} {role}" for role, count in sorted(counts.items()))


def digest_hex(token: str) -> str:
    """A token's sha256, in hex: what a console session keeps instead of the token."""
    return _digest(token).hex()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def parse_entry(entry: str, where: str) -> tuple[str, Caller]:
    """One ``token=role:name`` entry; ``where`` names it in the error (e.g. ``tokens.txt:3``)."""
    token, equals, rest = entry.strip().partition("=")
    token = token.strip()
    if not equals or not token:
        raise TokenError(f"{where}: expected token=role:name (e.g. s3cret=agent:Ana)")
    role, colon, name = rest.partition(":")
    role, name = role.strip(), name.strip()
    if not colon or not name:
        raise TokenError(f"{where}: expected token=role:name, the name is missing")
    if role not in ROLES:
        raise TokenError(
            f"{where}: unknown role {role!r}: use agent, supervisor, auditor or reviewer"
        )
    return token, Caller(name=name, role=role, token_id=digest_hex(token)[:TOKEN_ID_DIGITS])


def parse_env(value: str) -> list[tuple[str, Caller]]:
    """The comma-separated entries of ``CAREFLOW_API_TOKENS`` (empty items are skipped)."""
    entries: list[tuple[str, Caller]] = []
    for number, entry in enumerate(value.split(","), start=1):
        if entry.strip():
            entries.append(parse_entry(entry, f"{ENV} entry {number}"))
    return entries


def parse_file(path: Path) -> list[tuple[str, Caller]]:
    """The entries of a token file, one a line; problems say ``path:line``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TokenError(
            f"{path}: cannot read the token file ({FILE_ENV}): {error.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise TokenError(f"{path}: the token file is not UTF-8 text") from None
    entries: list[tuple[str, Caller]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            entries.append(parse_entry(line, f"{path}:{number}"))
    return entries


def load_tokens(settings: ApiTokenSettings) -> Tokens:
    """Every token from the environment and the file; ``TokenError`` on the first bad entry or
    on a token given twice (which one would win is not something to guess)."""
    entries: list[tuple[str, Caller]] = []
    if settings.tokens:
        entries += parse_env(settings.tokens)
    if settings.tokens_file:
        entries += parse_file(Path(settings.tokens_file))
    seen: dict[str, Caller] = {}
    for token, caller in entries:
        if token in seen:
            raise TokenError(
                f"the same token is given for {seen[token].role}:{seen[token].name} and "
                f"{caller.role}:{caller.name}: each token must be distinct"
            )
        seen[token] = caller
    return Tokens(entries)
