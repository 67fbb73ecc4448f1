"""careflow's search attributes fit SQL visibility's fixed columns (the dev server's SQLite,
PostgreSQL and MySQL): a namespace has 10 Keyword and 3 of every other custom type, and
``careflow setup`` / ``careflow up`` fail to register one more. Every slot but a few is taken,
so a new attribute must say which type has room (or reuse a Text attribute, as CareTopics does)."""

from __future__ import annotations

from collections import Counter

from temporalio.common import SearchAttributeIndexedValueType as Indexed

from workflows import search

# Temporal's SQL visibility schema: custom search attributes are fixed columns.
SQL_COLUMNS = {
    Indexed.KEYWORD: 10,
    Indexed.KEYWORD_LIST: 3,
    Indexed.TEXT: 3,
    Indexed.INT: 3,
    Indexed.DOUBLE: 3,
    Indexed.BOOL: 3,
    Indexed.DATETIME: 3,
}


def test_careflows_attributes_fit_sql_visibility() -> None:
    used = Counter(key.indexed_value_type for key in search.ALL_KEYS)
    over = {kind.name: count for kind, count in used.items() if count > SQL_COLUMNS[kind]}
    assert over == {}, "SQL visibility has no column left for these: pick another type"
    assert len({key.name for key in search.ALL_KEYS}) == len(search.ALL_KEYS)
