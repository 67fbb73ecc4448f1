"""Which of the rule file's topics an inquiry is about, kept current as the customer writes.

Pure and deterministic (workflow code): the post and each new inbound message are tested once;
a new run (continue-as-new) tests the carried messages again, so nothing extra is carried.
An edit does not re-tag, as no rule runs again for an edit (docs/workflow.md).
"""

from __future__ import annotations

from careflow.engine.ruleset import Ruleset
from workflows.state import InquiryState


class TopicTracker:
    """The topics matched so far, in the order first matched."""

    def __init__(self) -> None:
        self._topics: dict[str, None] = {}
        self._checked = -1  # -1: not even the post yet

    def update(self, state: InquiryState, ruleset: Ruleset) -> list[str]:
        """Test what arrived since the last call; return every topic matched so far."""
        if not ruleset.topics:
            return []
        values = state.values.values()
        if self._checked < 0:
            self._topics.update(dict.fromkeys(ruleset.topics_of(state.inquiry, values)))
            self._checked = 0
        for message in state.messages[self._checked :]:
            if message.direction == "in" and message.text and message.withdrawn_at is None:
                found = ruleset.topics_of(state.inquiry, values, message.text)
                self._topics.update(dict.fromkeys(found))
        self._checked = len(state.messages)
        return list(self._topics)
