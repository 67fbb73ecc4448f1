"""Decrypt an exported history's payloads, for ``careflow audit export --decrypt``.

Walks every message of every event and decodes each ``Payload`` (and the ones in maps, such as a
memo) through the codec. Search attributes are left alone: the server indexes them, so they are
never encoded. A decrypted history still replays, with or without keys (the codec passes clear
payloads through).
"""

from __future__ import annotations

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadCodec

_PAYLOAD = Payload.DESCRIPTOR.full_name
_SKIP = "temporal.api.common.v1.SearchAttributes"


def collect_payloads(message: Message, found: list[Payload]) -> None:
    """Append every Payload inside ``message`` (search attributes aside) to ``found``."""
    if message.DESCRIPTOR.full_name == _SKIP:
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if not isinstance(item, Message):
                continue
            if item.DESCRIPTOR.full_name == _PAYLOAD:
                assert isinstance(item, Payload)
                found.append(item)
            else:
                collect_payloads(item, found)


async def decrypt_history(history: WorkflowHistory, codec: PayloadCodec) -> WorkflowHistory:
    """A copy of ``history`` with every payload decoded."""
    events = [type(event)() for event in history.events]
    payloads: list[Payload] = []
    for copy, event in zip(events, history.events, strict=True):
        copy.CopyFrom(event)
        collect_payloads(copy, payloads)
    for payload, decoded in zip(payloads, await codec.decode(payloads), strict=True):
        payload.CopyFrom(decoded)
    return WorkflowHistory(history.workflow_id, events)
