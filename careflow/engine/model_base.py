"""What every section model of a rule file shares: strictness, names, and conditions.

Its own module so that sections kept in their own files (``topic_model``, ``trend_model``) and
``careflow.engine.model``, which assembles them, read the same rules without importing each other.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from careflow.engine.conditions import Condition, ConditionError, parse_condition
from careflow.engine.durations import DURATION_PATTERN

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]


class Strict(BaseModel):
    """Unknown keys and type coercion are errors, as in the schema."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="python-re")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        """An omitted key takes its default; an explicit ``null`` is a mistake (as in the schema)."""
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None:
                    raise ValueError(f"{key}: null is not allowed; omit the key instead")
        return data


def condition(raw: Any) -> Condition:
    """``raw`` parsed as a condition, its mistakes as a ValueError naming where in it they are."""
    try:
        return parse_condition(raw)
    except ConditionError as error:
        where = ".".join(str(part) for part in error.path)
        raise ValueError(f"{where}: {error.message}" if where else error.message) from None
