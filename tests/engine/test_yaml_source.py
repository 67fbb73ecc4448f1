"""Rule files read as YAML 1.2 core data, with positions, and refuse what YAML 1.1 would mangle."""

from __future__ import annotations

import pytest

from careflow.engine.yaml_source import Position, YamlSourceError, load_yaml


def test_yaml_1_1_booleans_dates_and_sexagesimals_stay_text() -> None:
    doc = load_yaml("on: received\nyes: no\nday: 2026-12-25\nat: 10:30\nflag: true\nn: 0x1f\n")
    assert doc.data == {
        "on": "received",
        "yes": "no",
        "day": "2026-12-25",
        "at": "10:30",
        "flag": True,
        "n": 31,
    }


def test_positions_of_keys_and_values() -> None:
    doc = load_yaml("rules:\n  - name: a\n    when: {text: {contains: late}}\n")
    assert doc.keys[("rules", 0, "when")] == Position(3, 5)
    assert doc.values[("rules", 0, "when", "text", "contains")] == Position(3, 29)
    assert doc.position_of(("rules", 0, "when", "nothing", "here")) == Position(3, 11)


def test_anchors_and_merge_keys() -> None:
    doc = load_yaml("base: &b {internal: 1m, published: 2m}\nack: {<<: *b, published: 5m}\n")
    assert doc.data["ack"] == {"internal": "1m", "published": "5m"}


def test_block_scalar_content_position() -> None:
    doc = load_yaml("templates:\n  ack: |\n    Hello\n    there\n")
    assert doc.block_starts[("templates", "ack")] == Position(3, 5)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("a: 1\na: 2\n", Position(2, 1), "duplicate key 'a'"),
        ("a: !!python/object:os.system {}\n", Position(1, 4), "unsupported YAML tag"),
        ("a: &x [*x]\n", Position(1, 4), "recursive YAML alias"),
        ("a: 1\n---\nb: 2\n", Position(2, 1), "expected a single document"),
        ("a: b\x07\n", Position(1, 5), "character U+0007 is not allowed"),
        ("? [a]\n: 1\n", Position(1, 3), "mapping keys must be plain text"),
    ],
)
def test_malformed_yaml_is_located(text: str, position: Position, message: str) -> None:
    with pytest.raises(YamlSourceError) as caught:
        load_yaml(text)
    (problem,) = caught.value.problems
    assert problem.position == position
    assert message in problem.message
