"""The ``topics:`` section of a rule file: what customers talk about, each a condition.

Kept apart from ``careflow.engine.model`` (which only names the section) so the insights work
stays in its own place; ``schemas/rules.schema.json`` states the same structure (``$defs.topic``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, model_validator

from careflow.engine.conditions import Condition, ConditionError, parse_condition


def _parse_topic_when(raw: Any) -> Condition:
    """A topic's condition, in the rule language (``text``, ``channel``, ``author.*``, …)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("when must be a condition mapping, e.g. {text: {contains: outage}}")
    try:
        return parse_condition(raw)
    except ConditionError as error:
        where = ".".join(str(part) for part in error.path)
        raise ValueError(f"{where}: {error.message}" if where else error.message) from None


class Topic(BaseModel):
    """One topic: every inquiry whose post (or a later customer message) matches is tagged."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="python-re")

    description: str | None = None
    when: Annotated[Condition, PlainValidator(_parse_topic_when)]

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None:
                    raise ValueError(f"{key}: null is not allowed; omit the key instead")
        return data
