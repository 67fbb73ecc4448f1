"""``careflow setup``: register careflow's search attributes on a namespace, once per cluster."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from careflow.temporal.explain import explained
from workflows import search


class SearchAttributeSetup(BaseModel):
    """What ``careflow setup`` found and did on a namespace."""

    added: list[str]
    present: list[str]
    conflicts: list[str]  # registered with another type: queries on them will not work


def _type_name(value: int) -> str:
    name = IndexedValueType.Name(IndexedValueType.ValueType(value))
    return name.removeprefix("INDEXED_VALUE_TYPE_").title().replace("_", "")


async def register_search_attributes(client: Client, namespace: str) -> SearchAttributeSetup:
    """Register careflow's search attributes on ``namespace``, skipping those already there."""
    with explained(client):
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = {**listed.system_attributes, **listed.custom_attributes}
        missing = {k.name: k for k in search.ALL_KEYS if k.name not in existing}
        present = [k.name for k in search.ALL_KEYS if k.name in existing]
        conflicts = [
            f"{k.name} is registered as {_type_name(existing[k.name])}, careflow needs "
            f"{_type_name(k.indexed_value_type)}"
            for k in search.ALL_KEYS
            if k.name in existing and existing[k.name] != int(k.indexed_value_type)
        ]
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace,
                    search_attributes={
                        name: IndexedValueType.ValueType(key.indexed_value_type)
                        for name, key in missing.items()
                    },
                )
            )
    return SearchAttributeSetup(added=list(missing), present=present, conflicts=conflicts)
