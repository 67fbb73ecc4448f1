"""A bug injected into the rule engine, for the last line of defence: rule evaluation never
raises by design, so a test that needs it to must break it. The recorded history of that test
replays only with the same bug in place (``tests/workflows/fault_histories/``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from careflow.engine.ruleset import Decision, Ruleset

BROKEN_EVENT = "customer.message"


@contextmanager
def rules_break_on_customer_messages() -> Iterator[None]:
    """``Ruleset.evaluate`` raises ``ZeroDivisionError`` for ``customer.message`` meanwhile (the
    worker's workflows import the engine passed through the sandbox: the same class)."""
    original = Ruleset.evaluate

    def evaluate(self: Ruleset, event: str, *args: Any, **kwargs: Any) -> Decision:
        if event == BROKEN_EVENT:
            raise ZeroDivisionError("integer division or modulo by zero")
        return original(self, event, *args, **kwargs)

    Ruleset.evaluate = evaluate  # type: ignore[method-assign]
    try:
        yield
    finally:
        Ruleset.evaluate = original  # type: ignore[method-assign]
