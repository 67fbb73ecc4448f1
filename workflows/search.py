"""The search attributes an inquiry keeps current, for the agents' queue and for reports.

``careflow up`` registers them on the embedded server and ``careflow setup`` on a cluster;
queries such as ``CareCategory='billing' AND CareStep='resolve'`` then work in the CLI and the UI.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

CHANNEL = SearchAttributeKey.for_keyword("CareChannel")
CATEGORY = SearchAttributeKey.for_keyword("CareCategory")
PRIORITY = SearchAttributeKey.for_keyword("CarePriority")
QUEUE = SearchAttributeKey.for_keyword("CareQueue")
STEP = SearchAttributeKey.for_keyword("CareStep")
AGENT = SearchAttributeKey.for_keyword("CareAgent")
NEXT_DUE = SearchAttributeKey.for_datetime("CareNextDue")
BREACHED = SearchAttributeKey.for_keyword_list("CareBreached")
RULESET = SearchAttributeKey.for_keyword("CareRuleset")
# For the SLA report (``careflow report``), kept since the "sla-search-attributes" patch.
MISSED_INTERNAL = SearchAttributeKey.for_keyword_list("CareMissedInternal")
FIRST_RESPONSE = SearchAttributeKey.for_int("CareFirstResponseSeconds")
RESOLUTION = SearchAttributeKey.for_int("CareResolutionSeconds")
REOPENS = SearchAttributeKey.for_int("CareReopens")
# The customer across a platform's public and private channels ("x:<user id>"), set by intake
# at start, so a DM can find the public inquiry that invited it.
CUSTOMER = SearchAttributeKey.for_keyword("CareCustomer")

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    CHANNEL,
    CATEGORY,
    PRIORITY,
    QUEUE,
    STEP,
    AGENT,
    NEXT_DUE,
    BREACHED,
    RULESET,
    MISSED_INTERNAL,
    FIRST_RESPONSE,
    RESOLUTION,
    REOPENS,
    CUSTOMER,
)

_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.INT: "Int",
}


def dev_server_flags() -> list[str]:
    """``--search-attribute NAME=TYPE`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_TYPE_NAMES[key.indexed_value_type]}"]
    return flags
