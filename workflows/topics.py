"""Which of the rule file's topics an inquiry is about, kept current as the customer writes.

Pure and deterministic (workflow code): the post and each new inbound message are tested once.
The topics found so far are carried in the state (``InquiryState.topics``), since the bounded
state lets old messages go; a new run starts from them and tests the carried messages again
(a state carried before ``topics`` existed has none, and its messages give the same topics).
An edit does not re-tag, as no rule runs again for an edit (docs/workflow.md).
"""

from __future__ import annotations

from careflow.engine.ruleset import Ruleset
from workflows.state import InquiryState


class TopicTracker:
    """The topics matched so far, in the order first matched."""

    def __init__(self) -> None:
        self._topics: dict[str, None] = {}
        self._checked = -1  # messages the inquiry has had, trimmed ones included; -1: none yet

    def update(self, state: InquiryState, ruleset: Ruleset) -> list[str]:
        """Test what arrived since the last call; return every topic matched so far."""
        if not ruleset.topics:
            return []
        values = state.values.values()
        kept = len(state.messages)
        total = state.earlier.messages + kept  # counted, so trimming does not hide new ones
        if self._checked < 0:
            self._topics = dict.fromkeys(state.topics)
            self._topics.update(dict.fromkeys(ruleset.topics_of(state.inquiry, values)))
            self._checked = total - kept
        new = min(total - self._checked, kept)
        for message in state.messages[kept - new :] if new > 0 else []:
            if message.direction == "in" and message.text and message.withdrawn_at is None:
                found = ruleset.topics_of(state.inquiry, values, message.text)
                self._topics.update(dict.fromkeys(found))
        self._checked = total
        state.topics = list(self._topics)
        return list(self._topics)
