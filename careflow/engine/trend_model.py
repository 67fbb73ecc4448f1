"""The ``trends:`` section of a rule file: when many customers in one segment raise one topic,
draft a proactive post for a supervisor to approve.

Structure only (the JSON Schema states the same, ``$defs.trend``); references to topics,
templates and targets are checked by ``careflow.engine.checker``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from careflow.engine.model_base import Duration as TrendDuration
from careflow.engine.model_base import Name as TrendName
from careflow.engine.model_base import Strict

PROACTIVE_CHANNELS = ("x", "facebook")


class TrendRule(Strict):
    """One trend: ``topic`` in one segment, at least ``min_count`` inquiries in ``window`` and at
    least ``factor`` times the median of the same window at the same time on the last 7 days."""

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
