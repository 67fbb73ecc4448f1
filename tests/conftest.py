"""Shared paths and helpers for the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
EXAMPLES = ROOT / "examples" / "inquiries"
DEFAULT_PACK = RULES / "default.yaml"
SKETCH_FILE = RULES / "examples" / "acme-retail.yaml"  # DESIGN.md's rule-file sketch, verbatim

MINIMAL = """\
version: 1
name: minimal
windows:
  standard: {acknowledge: {internal: 30m, published: 1h}, resolve: {internal: 4h, published: 24h}}
defaults: {windows: standard, privatize: never}
templates:
  follow_up: "Is everything sorted?"
rules: []
"""


def explain_args(example: str, *extra: str) -> list[str]:
    """Arguments of `careflow rules explain` for the default pack and one example inquiry."""
    inquiry = str(EXAMPLES / f"{example}.json")
    return ["rules", "explain", "--rules", str(DEFAULT_PACK), "--inquiry", inquiry, *extra]


def dedent(text: str) -> str:
    """Strip the indentation of an inline YAML document."""
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def write_rules(tmp_path: Path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "rules.yaml") -> Path:
        path = tmp_path / name
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write
