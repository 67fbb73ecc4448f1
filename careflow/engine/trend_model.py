"""The ``trends:`` section of a rule file: when many customers in one segment raise one topic,
draft a proactive post for a supervisor to approve.

Structure only (the JSON Schema states the same, ``$defs.trend``); references to topics,
templates and targets are checked by ``careflow.engine.checker``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from careflow.engine.durations import DURATION_PATTERN

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
TrendName = Annotated[str, StringConstraints(pattern=_NAME)]
TrendDuration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
PROACTIVE_CHANNELS = ("x", "facebook")


class TrendRule(BaseModel):
    """One trend: ``topic`` in one segment, at least ``min_count`` inquiries in ``window`` and at
    least ``factor`` times the median of the same window at the same time on the last 7 days."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="python-re")

    name: TrendName
    description: str | None = None
    topic: TrendName
    segment: Annotated[str, StringConstraints(min_length=1)] | None = None  # None: each one
    min_count: Annotated[int, Field(ge=1)]
    window: TrendDuration
    factor: Annotated[float, Field(ge=1)]
    template: TrendName  # the public post's draft
    approvers: TrendName  # a target: who is told a draft waits
    wait: TrendDuration = "2h"  # how long a draft waits for a decision before it expires
    channel: Literal["x", "facebook"] = "x"  # where the post goes (an X post, a Facebook Page post)
    reply_template: TrendName | None = None  # then, a reply to each open inquiry it covers

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if value is None:
                    raise ValueError(f"{key}: null is not allowed; omit the key instead")
        return data
