"""A ruleset carries the engine behaviour version it runs with; one this code does not know (a
state carried from a newer careflow) is refused rather than run with today's behaviour."""

from __future__ import annotations

import pytest

from careflow.engine.ruleset import ruleset_from_checked_text
from careflow.engine.version import ENGINE_VERSION
from tests.conftest import DEFAULT_PACK


def test_a_ruleset_runs_the_engine_version_it_is_given() -> None:
    text = DEFAULT_PACK.read_text()
    assert ruleset_from_checked_text(text, "d", "f").engine == ENGINE_VERSION
    assert ruleset_from_checked_text(text, "d", "f", engine=1).engine == 1


@pytest.mark.parametrize("engine", [0, ENGINE_VERSION + 1])
def test_an_unknown_engine_version_is_refused(engine: int) -> None:
    with pytest.raises(ValueError, match=f"rule engine version {engine} is unknown"):
        ruleset_from_checked_text(DEFAULT_PACK.read_text(), "d", "f", engine=engine)
