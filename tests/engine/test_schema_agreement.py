"""The JSON Schema (for editors) and the pydantic models (for careflow) accept the same files."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from careflow.engine.durations import DURATION_PATTERN
from careflow.engine.fields import EVENTS, FIELDS
from careflow.engine.model import RuleFile
from careflow.engine.post import Inquiry
from careflow.engine.yaml_source import load_yaml
from tests.conftest import DEFAULT_PACK, EXAMPLES, MINIMAL, ROOT, SKETCH_FILE

RULES_SCHEMA = json.loads((ROOT / "schemas" / "rules.schema.json").read_text())
INQUIRY_SCHEMA = json.loads((ROOT / "schemas" / "inquiry.schema.json").read_text())
RULES_VALIDATOR = jsonschema.Draft202012Validator(RULES_SCHEMA)
INQUIRY_VALIDATOR = jsonschema.Draft202012Validator(INQUIRY_SCHEMA)
SKETCH = SKETCH_FILE.read_text()


def schema_accepts(data: Any) -> bool:
    return RULES_VALIDATOR.is_valid(data)


def model_accepts(data: Any) -> bool:
    try:
        RuleFile.model_validate(data)
    except ValidationError:
        return False
    return True


def base_documents() -> list[dict[str, Any]]:
    return [
        load_yaml(SKETCH).data,
        load_yaml(MINIMAL).data,
        load_yaml(DEFAULT_PACK.read_bytes()).data,
    ]


def mutate(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(data)
    target = result
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


_DELETE = object()

VALID_EDITS = [
    (("rules", 0, "when"), {"any": [{"text": "x"}, {"not": {"kind": "private"}}]}),
    (("rules", 0, "on"), ["received", "customer.message"]),
    (("rules", 0, "do"), [{"tag": ["a", "b"]}, {"escalate": {"to": "chat"}}]),
    (("rules", 0, "when"), {"priority": {"gte": "high"}, "tags": {"contains": "vip"}}),
    (("rules", 0, "when"), {"author.followers": {"in": [1, 2.5]}}),
    (("rules", 0, "stop"), True),
    (("defaults", "priority"), "low"),
    (("windows", "standard", "acknowledge", "warn_before"), "20%"),
    (("windows", "standard", "next_reply"), {"internal": "1h30m", "published": "2d"}),
    (("flow",), {"follow_up": {"after": "45s"}}),
    (("flow",), {"max_reply_parts": 1}),
    (("flow",), {"unknown_name": "there"}),
    (("flow",), {"max_reply_parts": 25, "long_replies": "split"}),
    (("teams",), {"care": {"agents": ["Ana", "Ben"], "description": "front line"}}),
    (("flow",), {"follow_up": {"rating": {}}}),
    (
        ("flow",),
        {"follow_up": {"rating": {"scale": 10, "languages": ["en", "fr"], "words": {"top": 9}}}},
    ),
]
INVALID_EDITS = [
    (("version",), 2),
    (("version",), True),
    (("version",), "1"),
    (("name",), "has space"),
    (("name",), _DELETE),
    (("rules", 0, "on"), "recieved"),
    (("rules", 0, "on"), []),
    (("rules", 0, "when"), {}),
    (("rules", 0, "when"), {"textt": "x"}),
    (("rules", 0, "when"), {"text": {"gt": "x"}}),
    (("rules", 0, "when"), {"author.followers": {"gte": "many"}}),
    (("rules", 0, "when"), {"author.followers": {"gte": True}}),
    (("rules", 0, "when"), {"priority": "urgnt"}),
    (("rules", 0, "when"), {"tags": "vip"}),
    (("rules", 0, "when"), {"text": {"in": []}}),
    (("rules", 0, "when"), {"any": []}),
    (("rules", 0, "when"), {"not": "x"}),
    (("rules", 0, "when"), {"text": {"exists": "yes"}}),
    (("rules", 0, "when"), None),
    (("rules", 0, "do"), []),
    (("rules", 0, "do"), [{}]),
    (("rules", 0, "do"), [{"drop": "a", "tag": "b"}]),
    (("rules", 0, "do"), [{"set": {}}]),
    (("rules", 0, "do"), [{"set": {"priority": "asap"}}]),
    (("rules", 0, "do"), [{"reply": {"private": True}}]),
    (("rules", 0, "do"), [{"escalate": {"to": "manager"}}]),
    (("rules", 0, "do"), [{"frobnicate": 1}]),
    (("rules", 0, "extra"), 1),
    (("windows",), {}),
    (("windows", "standard", "acknowledge", "internal"), "30 min"),
    (("windows", "standard", "acknowledge", "internal"), "0m"),
    (("windows", "standard", "acknowledge", "internal"), 30),
    (("windows", "standard", "acknowledge", "warn_before"), "100%"),
    (("windows", "standard", "acknowledge", "met_by"), "bot"),
    (("windows", "standard", "resolve"), _DELETE),
    (("defaults", "windows"), _DELETE),
    (("defaults", "privatize"), "always"),
    (("templates", "ack"), ""),
    (("templates", "ack"), 3),
    (("flow", "privatize"), {"remind_after": "soon"}),
    (("flow",), {"max_reply_parts": 0}),
    (("flow",), {"unknown_name": ""}),
    (("flow",), {"unknown_name": 3}),
    (("flow",), {"max_reply_parts": 2.5}),
    (("flow",), {"max_reply_parts": "10"}),
    (("flow",), {"max_reply_parts": True}),
    (("teams",), {"care": {"agents": []}}),
    (("teams",), {"care": ["Ana"]}),
    (("teams",), {"has space": {"agents": ["Ana"]}}),
    (("flow",), {"follow_up": {"rating": {"scale": 1}}}),
    (("flow",), {"follow_up": {"rating": {"scale": 11}}}),
    (("flow",), {"follow_up": {"rating": {"languages": []}}}),
    (("flow",), {"follow_up": {"rating": {"words": {"meh": 0}}}}),
    (("flow",), {"follow_up": {"rating": {"stars": True}}}),
]


@pytest.mark.parametrize("data", base_documents(), ids=["sketch", "minimal", "default-pack"])
def test_shipped_documents_are_valid_in_both(data: dict[str, Any]) -> None:
    assert schema_accepts(data)
    assert model_accepts(data)


@pytest.mark.parametrize(("path", "value"), VALID_EDITS, ids=[str(p) for p, _ in VALID_EDITS])
def test_valid_edits_pass_both(path: tuple[Any, ...], value: Any) -> None:
    data = mutate(
        load_yaml(MINIMAL + "").data,
        ("rules",),
        [{"name": "r", "on": "received", "do": [{"tag": "x"}]}],
    )
    edited = mutate(data, path, value)
    assert schema_accepts(edited), list(RULES_VALIDATOR.iter_errors(edited))
    assert model_accepts(edited)


@pytest.mark.parametrize(("path", "value"), INVALID_EDITS, ids=[str(p) for p, _ in INVALID_EDITS])
def test_invalid_edits_fail_both(path: tuple[Any, ...], value: Any) -> None:
    data = load_yaml(SKETCH).data
    data["templates"]["ack"] = "hi"
    edited = mutate(data, path, value)
    assert not schema_accepts(edited)
    assert not model_accepts(edited)


def test_schema_lists_exactly_the_registry_fields_and_operators() -> None:
    condition = RULES_SCHEMA["$defs"]["condition"]["properties"]
    assert set(condition) == {"all", "any", "not", *FIELDS}
    for name, spec in FIELDS.items():
        tests = condition[name].get("then", condition[name])
        assert tuple(tests["properties"]) == spec.operators, name
    assert RULES_SCHEMA["$defs"]["event"]["enum"] == list(EVENTS)
    assert RULES_SCHEMA["$defs"]["duration"]["pattern"] == DURATION_PATTERN


# Values a mutation may put anywhere: the vocabulary of rule files plus wrong types.
_VALUES = st.one_of(
    st.sampled_from(
        [
            "received",
            "recieved",
            "30m",
            "0m",
            "1h30m",
            "2x",
            "urgent",
            "urgnt",
            "standard",
            "always",
            "ack",
            "",
            "has space",
            "text",
            "eq",
            "20%",
            "required",
            "supervisor",
            "${X}",
            "https://h.example/x",
            "2026-12-25",
            "mon-fri",
            "09:00-17:00",
        ]
    ),
    st.integers(-2, 20000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.lists(st.sampled_from(["received", "a", 1, True]), max_size=3),
    st.dictionaries(
        st.sampled_from(["text", "eq", "gte", "tag", "drop", "name", "on", "do", "internal"]),
        st.sampled_from(["x", 1, True, "30m", None]),
        max_size=2,
    ),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_are_judged_alike(data: st.DataObject) -> None:
    document = data.draw(st.sampled_from(base_documents()))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)
        path = data.draw(st.sampled_from(paths))
        operation = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if operation == "add" and isinstance(_get(document, path), dict):
            key = data.draw(st.sampled_from(["text", "extra", "name", "on", "eq", "internal", "x"]))
            document = mutate(document, (*path, key), data.draw(_VALUES))
        elif operation == "delete" and isinstance(_get(document, path[:-1]), dict):
            document = mutate(document, path, _DELETE)
        else:
            document = mutate(document, path, data.draw(_VALUES))
    assert schema_accepts(document) == model_accepts(document), (
        document,
        [e.message for e in RULES_VALIDATOR.iter_errors(document)][:3],
    )


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_example_inquiries_are_valid_in_both(path) -> None:
    data = json.loads(path.read_text())
    assert INQUIRY_VALIDATOR.is_valid(data)
    Inquiry.model_validate(data)


@pytest.mark.parametrize(
    "edit",
    [
        {"kind": "dm"},
        {"channel": "X"},
        {"created_at": "2026-11-17 15:05"},
        {"created_at": "yesterday"},
        {"author": {"id": "1"}},
        {"author": {"id": "1", "handle": "a", "followers": -1}},
        {"extra": 1},
        {"text": None},
    ],
)
def test_invalid_inquiries_fail_both(edit: dict[str, Any]) -> None:
    data = json.loads((EXAMPLES / "late-delivery.json").read_text())
    data.update(edit)
    assert not INQUIRY_VALIDATOR.is_valid(data)
    with pytest.raises(ValidationError):
        Inquiry.model_validate(data)
