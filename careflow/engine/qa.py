"""Which closed inquiries go to quality review (the rule file's ``qa.sampling``).

Pure and deterministic, so the workflow can decide at close and replay the same decision: an
inquiry matching ``when`` always goes; otherwise a hash of its workflow id puts it in the
``share``. The hash spreads evenly, so each agent's inquiries in any week are sampled at about
that share, with no counter to keep across workflows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from careflow.engine.conditions import CompiledCondition
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Ruleset, Values


def in_share(key: str, share: str) -> bool:
    """Whether ``key`` falls in the ``share`` (``"10%"``) of keys, the same way every time."""
    bucket = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    return bucket < int(share.rstrip("%"))


def sampling_reasons(
    ruleset: Ruleset, inquiry: Inquiry, values: Values, extra: Mapping[str, Any], key: str
) -> list[str]:
    """Why a closing inquiry goes to review (empty: it does not). ``extra`` holds the fields
    of the ``closed`` event; ``key`` is the workflow id."""
    qa = ruleset.rule_file.qa
    if qa is None:
        return []
    reasons: list[str] = []
    if qa.sampling.when is not None:
        condition = CompiledCondition(qa.sampling.when)
        ctx = ruleset.context(inquiry, values, extra)
        if condition.test(ctx):
            reasons += condition.explain(ctx)
    if in_share(key, qa.sampling.share):
        reasons.append(f"in the {qa.sampling.share} sample")
    return reasons
