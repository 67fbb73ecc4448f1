"""The ``topics:`` section of a rule file: what customers talk about, each a condition.

Kept apart from ``careflow.engine.model`` (which only names the section) so the insights work
stays in its own place; ``schemas/rules.schema.json`` states the same structure (``$defs.topic``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator

from careflow.engine.conditions import Condition
from careflow.engine.model_base import Strict, condition


def _parse_topic_when(raw: Any) -> Condition:
    """A topic's condition, in the rule language (``text``, ``channel``, ``author.*``, …)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("when must be a condition mapping, e.g. {text: {contains: outage}}")
    return condition(raw)


class Topic(Strict):
    """One topic: every inquiry whose post (or a later customer message) matches is tagged."""

    description: str | None = None
    when: Annotated[Condition, PlainValidator(_parse_topic_when)]
