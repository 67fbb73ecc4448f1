"""Read a YAML rule file into plain JSON-like data while remembering where every node was written.

PyYAML's default (YAML 1.1) resolver would turn the key ``on:`` into ``True``, ``2026-12-25`` into a
date and ``10:30`` into a base-60 integer. Rule files need the YAML 1.2 core behaviour instead, so
this loader resolves only ``true/false``, ``null``, integers and floats; everything else stays a
string, exactly as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """1-based line and column of a YAML node."""

    line: int
    column: int


@dataclass(frozen=True)
class SourceProblem:
    """A problem found while reading the file, before any schema is applied."""

    position: Position
    message: str


@dataclass
class SourceDocument:
    """The parsed data plus the position of each value and each mapping key, by path."""

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    # First content line of ``|`` / ``>`` block scalars, so template errors can name their line.
    block_starts: dict[Path, Position] = field(default_factory=dict)

    def position_of(self, path: Path, *, key: bool = False) -> Position:
        """The position of the node at ``path``, falling back to the nearest ancestor that exists."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            prefix = path[:cut]
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)


class _CoreLoader(yaml.SafeLoader):
    """A SafeLoader with YAML 1.2 core-schema scalar resolution (see module docstring)."""


_CoreLoader.yaml_implicit_resolvers = {}
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_CoreLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def _position(mark: yaml.Mark | None) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)


class YamlSourceError(Exception):
    """The text is not a single well-formed YAML document; carries every problem found."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise YamlSourceError(
            [SourceProblem(Position(line, column), "not a UTF-8 text file (invalid byte sequence)")]
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise YamlSourceError(
            [SourceProblem(Position(line, column), "not a text file (contains NUL bytes)")]
        )
    return text


def _reader_problem(text: str, error: yaml.reader.ReaderError) -> SourceProblem:
    """A character YAML refuses (control characters): say which, and where."""
    offset = min(error.position, len(text))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return SourceProblem(
        Position(line, column), f"character U+{error.character:04X} is not allowed in a rule file"
    )


def load_yaml(raw: bytes | str) -> SourceDocument:
    """Parse one YAML document; raise YamlSourceError with positions for anything malformed."""
    text = _decode(raw) if isinstance(raw, bytes) else raw
    try:
        loader = _CoreLoader(text)
    except yaml.reader.ReaderError as error:
        raise YamlSourceError([_reader_problem(text, error)]) from None
    try:
        root = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        raise YamlSourceError([_reader_problem(text, error)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = str(error.problem or error.context or "invalid YAML")
        if error.context and error.problem:
            message = f"{error.context}: {error.problem}"
        raise YamlSourceError(
            [SourceProblem(_position(mark), f"YAML syntax error: {message}")]
        ) from None
    except yaml.YAMLError as error:
        raise YamlSourceError([SourceProblem(Position(1, 1), f"YAML error: {error}")]) from None
    finally:
        loader.dispose()
    document = SourceDocument(data=None)
    if root is None:
        return document
    problems: list[SourceProblem] = []
    document.data = _build(root, (), document, problems, active=set())
    if problems:
        raise YamlSourceError(problems)
    _locate_block_scalars(root, (), text.splitlines(), document)  # no recursive aliases by now
    return document


def _build(
    node: yaml.Node,
    path: Path,
    document: SourceDocument,
    problems: list[SourceProblem],
    active: set[int],
) -> Any:
    document.values.setdefault(path, _position(node.start_mark))
    if id(node) in active:
        problems.append(SourceProblem(_position(node.start_mark), "recursive YAML alias"))
        return None
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            problems.append(
                SourceProblem(_position(node.start_mark), f"unsupported YAML tag {node.tag!r}")
            )
            return None
        try:
            return _construct_scalar_value(node)
        except (ValueError, yaml.YAMLError):
            problems.append(SourceProblem(_position(node.start_mark), "invalid scalar value"))
            return None
    if node.tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
        problems.append(
            SourceProblem(_position(node.start_mark), f"unsupported YAML tag {node.tag!r}")
        )
        return None
    active = active | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), document, problems, active)
            for index, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _merge(value_node, path, document, problems, active, result, explicit)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                problems.append(
                    SourceProblem(_position(key_node.start_mark), "mapping keys must be plain text")
                )
                continue
            key = str(key_node.value)
            if key in explicit:
                problems.append(
                    SourceProblem(_position(key_node.start_mark), f"duplicate key {key!r}")
                )
                continue
            explicit.add(key)
            document.keys[(*path, key)] = _position(key_node.start_mark)
            document.values.pop((*path, key), None)
            result[key] = _build(value_node, (*path, key), document, problems, active)
        return result
    problems.append(SourceProblem(_position(node.start_mark), "unsupported YAML node"))
    return None


def _merge(
    value_node: yaml.Node,
    path: Path,
    document: SourceDocument,
    problems: list[SourceProblem],
    active: set[int],
    result: dict[str, Any],
    explicit: set[str],
) -> None:
    """Apply a ``<<: *anchor`` merge key: merged keys never override explicit ones."""
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    for source in sources:
        merged = _build(source, path, document, problems, active)
        if not isinstance(merged, dict):
            problems.append(
                SourceProblem(_position(source.start_mark), "'<<' must refer to a mapping")
            )
            continue
        for key, value in merged.items():
            if key not in explicit and key not in result:
                result[key] = value


def _construct_scalar_value(node: yaml.ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:bool":
        return node.value.lower() == "true"
    if node.tag == "tag:yaml.org,2002:int":
        text = node.value
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    value = node.value.lower()
    if value in (".inf", "+.inf"):
        return float("inf")
    if value == "-.inf":
        return float("-inf")
    if value == ".nan":
        return float("nan")
    return float(node.value)


def _locate_block_scalars(
    node: yaml.Node, path: Path, lines: list[str], document: SourceDocument
) -> None:
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("|", ">"):
            row = node.start_mark.line + 1
            while row < len(lines) and not lines[row].strip():
                row += 1
            if row < len(lines):
                indent = len(lines[row]) - len(lines[row].lstrip(" "))
                document.block_starts[path] = Position(row + 1, indent + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _locate_block_scalars(item, (*path, index), lines, document)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                _locate_block_scalars(value_node, (*path, str(key_node.value)), lines, document)
