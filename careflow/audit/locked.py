"""Which encryption keys a history needs that this process lacks, for ``careflow audit replay``.

An auditor without careflow's keys cannot replay an encrypted history: the workflow's input does
not decode. Replaying it anyway reports a decoding failure as non-determinism and its rules as
tampered, which says something false about the history; instead it is named as locked, with the
key ids it needs (ids only, never key material).
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadCodec

from careflow.audit.decrypt import collect_payloads
from careflow.temporal.codec import ENCODING, KEY_ID, EncryptionCodec


def missing_keys(history: WorkflowHistory, codec: PayloadCodec | None) -> list[str]:
    """The key ids that sealed payloads in ``history`` and that ``codec`` does not open, in
    order of first use; empty when it replays here."""
    opened = set(codec.key_ids) if isinstance(codec, EncryptionCodec) else set()
    payloads: list[Payload] = []
    for event in history.events:
        collect_payloads(event, payloads)
    needed: dict[str, None] = {}
    for payload in payloads:
        if payload.metadata.get("encoding") == ENCODING:
            key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
            if key_id not in opened:
                needed[key_id] = None
    return list(needed)
