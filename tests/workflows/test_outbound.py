"""What ``deliver`` gets and what the record keeps, built from the state without a server."""

from __future__ import annotations

from activities.types import Delivery
from tests.workflows.states import RULES, inquiry_state
from workflows import outbound
from workflows.outbound import Send


def test_a_signed_reply_carries_the_conversation_and_its_key() -> None:
    state = inquiry_state(sequence=3)
    key = outbound.key("inquiry-x-1", state)
    built = outbound.build(
        Send("reply", "Ana", template_name="ack", signature="Ana"), key, state, RULES
    )
    assert key == "inquiry-x-1/acknowledge/3"
    assert (built.key, built.signature, built.template) == (
        key,
        "Ana",
        RULES.rule_file.templates["ack"],
    )
    assert built.in_reply_to == state.inquiry.id and built.recipient == "hikerjules"
    assert built.variables  # a template gets its variables, plain text none


def test_keys_name_the_inquiry_so_a_conversations_next_one_posts_its_own() -> None:
    first = inquiry_state(sequence=1, first_run_id="run-a")
    next_one = inquiry_state(sequence=1, first_run_id="run-b")
    assert outbound.key("inquiry-x-1", first) == "inquiry-x-1/run-a/acknowledge/1"
    assert outbound.key("inquiry-x-1", next_one) != outbound.key("inquiry-x-1", first)
    # Started before the inquiry-keys patch: the old key, so a retry is still recognised.
    assert outbound.key("inquiry-x-1", inquiry_state(sequence=1)) == "inquiry-x-1/acknowledge/1"


def test_only_customer_facing_messages_are_signed() -> None:
    state = inquiry_state()
    built = outbound.build(
        outbound.escalation(state, "supervisor", "why", "Ana"), "k", state, RULES
    )
    assert built.signature is None and built.text == "why (agent: unassigned)"


def test_a_message_the_adapter_sent_privately_is_recorded_where_it_went() -> None:
    state = inquiry_state()
    send = Send("reply", "Ana", text="a long answer")
    delivery = Delivery(key="k", id="p1", text="a long answer ^Ana", private=True)
    message, moved = outbound.delivered(send, "k", delivery, state, state.inquiry.created_at)
    assert (message.private, message.key, message.by, moved) == (
        True,
        "k",
        "Ana",
        "too long to post publicly",
    )


def test_a_notification_without_template_summarises_the_inquiry() -> None:
    send = outbound.notification(inquiry_state(), RULES, "pr-team", None, "rule:r")
    assert send.text == (
        "normal general inquiry on x by @hikerjules: "
        "https://x.com/hikerjules/status/1860000000000000014"
    )
    assert send.target == "pr-team"


def test_the_chat_link_counts_as_a_human_reply_unless_a_rule_sent_it() -> None:
    state = inquiry_state(agent="Ana")
    assert outbound.chat_link(state, "https://chat/1", "Ana").human is True
    assert outbound.chat_link(state, "https://chat/1", "rule:r").human is False
    assert outbound.chat_link(state, "https://chat/1", "Ana").text == (
        "Let's continue this in a live chat with Ana: https://chat/1"
    )
