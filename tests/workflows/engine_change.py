"""A stand-in engine behaviour change, for the engine-versioning tests: careflow has not needed
a real one yet. "Engine version 2" evaluates no rules at all, a change every recorded history
would notice (no triage rule fires, no auto-acknowledgement is sent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from careflow.engine import version
from careflow.engine.ruleset import Decision, Ruleset
from workflows import engine_version


@contextmanager
def engine_v2(monkeypatch: pytest.MonkeyPatch, *, guarded: bool = True) -> Iterator[None]:
    """Engine version 2 meanwhile. ``guarded``: done right, the old behaviour kept for
    ``ruleset.engine < 2``; unguarded: the careless change that alters every inquiry."""
    original = Ruleset.evaluate

    def evaluate(self: Ruleset, event: str, *args: Any, **kwargs: Any) -> Decision:
        if guarded and self.engine < 2:
            return original(self, event, *args, **kwargs)
        values = args[1] if len(args) > 1 and args[1] is not None else self.defaults
        return Decision(event, False, None, values, [], {}, [])

    with monkeypatch.context() as patch:
        # Workflows import the engine passed through the sandbox: the same modules and class.
        patch.setattr(version, "ENGINE_VERSION", 2)
        patch.setattr(engine_version, "ENGINE_VERSION", 2)
        patch.setattr(Ruleset, "evaluate", evaluate)
        yield
