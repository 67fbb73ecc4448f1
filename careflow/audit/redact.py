"""``careflow audit export --redact``: a history with the customer's personal data masked.

Masked: the customer's own words (every ``text`` field, the memo's preview, chat transcripts,
template variables), their identity (each ``author``'s id, handle and name, a message's ``by``
when the customer wrote it, a delivery's recipient and link) wherever it recurs in other text,
and any other string in which careflow's sensitive-data detector finds an email, order, card or
phone number. Kept: the rules text (no personal data, and what an auditor checks), agents'
names, codes, clocks, times and ids.

A redacted history no longer replays: the rules decided on the text that is now masked. Each
payload changed is marked (metadata ``careflow-redacted``), so ``audit replay`` reports such a
history as redacted instead of failing it, and the export's manifest says so too.
"""

from __future__ import annotations

import json
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from careflow.audit.decrypt import collect_payloads
from careflow.engine.sensitive import find_sensitive

REDACTED_METADATA = "careflow-redacted"
MASK = "[redacted]"
CUSTOMER = "[customer]"
_JSON = b"json/plain"
_ALWAYS = frozenset({"text", "recipient", "recipient_id", "link", "url", "transcript", "variables"})
_RULES_SOURCE = frozenset({"file", "name", "digest", "text"})  # activities.types.RulesSource
_RULES_VERSIONS = frozenset({"careflow_version", "tzdata_version"})  # absent in older histories


class RedactError(ValueError):
    """A payload that cannot be read to redact it (still encrypted: the keys are needed)."""


def _is_rules(value: dict[str, Any]) -> bool:
    return _RULES_SOURCE <= set(value) <= _RULES_SOURCE | _RULES_VERSIONS


def _identities(value: Any, found: set[str]) -> None:
    """Collect every author's handle and name in ``value`` (ids are masked where they stand,
    not searched for: a short number would match inside times and other ids)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "author" and isinstance(item, dict):
                found.update(str(v) for k, v in item.items() if k in ("handle", "name") and v)
            elif key == "author" and isinstance(item, str) and item:
                found.add(item)  # the memo keeps the handle alone
            else:
                _identities(item, found)
    elif isinstance(value, list):
        for item in value:
            _identities(item, found)


class Redactor:
    """Masks one history's payloads; knows the customer's identities from the whole history."""

    def __init__(self, identities: set[str]) -> None:
        # Longest first, so a name containing a handle is masked whole.
        self.identities = sorted((i for i in identities if len(i) >= 3), key=len, reverse=True)

    def string(self, text: str) -> str:
        for identity in self.identities:
            text = text.replace(identity, CUSTOMER)
        kinds = find_sensitive(text)
        return f"{MASK} ({', '.join(kinds)})" if kinds else text

    def mask(self, value: Any) -> Any:
        """``value`` with every string masked."""
        if isinstance(value, str):
            return MASK if value else value
        if isinstance(value, dict):
            return {key: self.mask(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.mask(item) for item in value]
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if not isinstance(value, dict) or _is_rules(value):
            return value
        incoming = value.get("direction") == "in"
        redacted: dict[str, Any] = {}
        for key, item in value.items():
            if key in _ALWAYS or key == "author" or (key == "by" and incoming):
                redacted[key] = self.mask(item)
            else:
                redacted[key] = self.value(item)
        return redacted


def _json_payloads(history: WorkflowHistory) -> list[Payload]:
    payloads: list[Payload] = []
    for event in history.events:
        collect_payloads(event, payloads)
    encodings = {p.metadata.get("encoding", b"") for p in payloads}
    if any(e not in (_JSON, b"binary/null", b"binary/plain", b"json/protobuf") for e in encodings):
        raise RedactError(
            "the history's payloads are encrypted: redacting needs the keys "
            "(CAREFLOW_ENCRYPTION_KEYS or CAREFLOW_ENCRYPTION_KEY_FILE)"
        )
    return [p for p in payloads if p.metadata.get("encoding") == _JSON]


def redact_history(history: WorkflowHistory) -> WorkflowHistory:
    """A copy of ``history`` (already decrypted) with personal data masked."""
    events = [type(event)() for event in history.events]
    for copy, event in zip(events, history.events, strict=True):
        copy.CopyFrom(event)
    copied = WorkflowHistory(history.workflow_id, events)
    payloads = _json_payloads(copied)
    decoded = [json.loads(p.data) for p in payloads]
    identities: set[str] = set()
    for value in decoded:
        _identities(value, identities)
    redactor = Redactor(identities)
    for payload, value in zip(payloads, decoded, strict=True):
        payload.data = json.dumps(redactor.value(value), separators=(",", ":")).encode()
        payload.metadata[REDACTED_METADATA] = b"1"
    return copied


def is_redacted(history: WorkflowHistory) -> bool:
    """Whether ``history`` was written by ``export --redact``."""
    payloads: list[Payload] = []
    for event in history.events[:1] or []:
        collect_payloads(event, payloads)
    return any(REDACTED_METADATA in p.metadata for p in payloads)
