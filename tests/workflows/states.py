"""Inquiry states built directly, for the workflow's pure parts (validators, interpreter,
outbound): no Temporal server, no activity."""

from __future__ import annotations

from typing import Any

from activities.types import RulesSource
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from tests.conftest import DEFAULT_PACK, EXAMPLES
from workflows.state import InquiryState, ValuesState

RULES = load_ruleset(DEFAULT_PACK)


def inquiry_state(example: str = "question", **changes: Any) -> InquiryState:
    """An example inquiry as the workflow keeps it on the default pack, in the acknowledge step
    unless ``changes`` say otherwise."""
    inquiry = Inquiry.model_validate_json((EXAMPLES / f"{example}.json").read_text())
    source = RulesSource(file=str(DEFAULT_PACK), name="default", digest=RULES.digest, text="")
    return InquiryState(
        inquiry=inquiry, rules=source, values=ValuesState.of(RULES.defaults), **changes
    )
