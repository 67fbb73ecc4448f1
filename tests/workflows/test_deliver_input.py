"""A ``deliver`` activity's input, as the history records it, carries what the adapter needs (the
platform ids, the customer's handle, the template and the variables it reads), not copies of
the customer's post: the history's one copy of their text is the workflow's own record."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.types import DELIVER, Outbound
from careflow.engine.ruleset import load_ruleset
from careflow.engine.templates import TREND_VARIABLES, needed, render_template
from tests.conftest import DEFAULT_PACK
from tests.harness import careflow, example, keep_history, round_the_clock_pack
from tests.workflows.states import RULES, inquiry_state
from workflows.machine import LEAN_VARIABLES_PATCH


def deliver_inputs(history: WorkflowHistory) -> list[tuple[bytes, Outbound]]:
    """Each ``deliver`` the history scheduled: its input payload's bytes, and the input."""
    found: list[tuple[bytes, Outbound]] = []
    converter = pydantic_data_converter.payload_converter
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == DELIVER:
            payload = scheduled.input.payloads[0]
            found.append((payload.data, converter.from_payloads([payload], [Outbound])[0]))
    return found


def test_a_deliver_input_in_the_history_holds_no_customer_text(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            post = example("question", await h.now())  # Jules (40014) asks about boots
            handle = await h.start(post)
            await h.skip(timedelta(hours=2))  # nobody answered: the safety-net acknowledgement
            await h.until(handle, lambda s: any(m.direction == "out" for m in s.messages))
            history = await keep_history(handle, "privacy-deliver-variables")
            sent = deliver_inputs(history)
            assert sent, "the acknowledgement was scheduled"
            for data, outbound in sent:
                assert post.text.encode() not in data and b"boots" not in data
                # What the adapter needs is there: whom to answer, where, and how to greet.
                assert outbound.in_reply_to == post.id and outbound.recipient == "hikerjules"
            ack = next(o for _, o in sent if o.template_name == "ack")
            assert ack.variables["author"] == {"name": "Jules"}  # "Hi {{ author.name }}"
            assert set(ack.variables) == {"author", "window"}
            assert "Hi Jules" in h.outbox()[0]["text"]  # it renders as before
            patches = [
                payload.data
                for event in history.events
                if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                for payload in event.marker_recorded_event_attributes.details["patch-data"].payloads
            ]
            assert any(LEAN_VARIABLES_PATCH.encode() in data for data in patches)

    asyncio.run(scenario())


def test_a_template_gets_what_it_reads_and_renders_the_same() -> None:
    state = inquiry_state()
    variables: dict[str, Any] = RULES.template_variables(state.inquiry, state.values.values())
    quoting = "You wrote {{ inquiry.text }}{% for t in inquiry.tags %} #{{ t }}{% endfor %}"
    assert needed(quoting, variables)["inquiry"] == {
        "text": state.inquiry.text,
        "tags": variables["inquiry"]["tags"],
    }
    whole = "{{ author|length }} {{ brand.name }}"  # read other than by attribute: all of it
    assert needed(whole, variables) == {"author": variables["author"], "brand": {"name": "Acme"}}
    # Every template of the default rules renders the same with only what it reads.
    for name, source in load_ruleset(DEFAULT_PACK).rule_file.templates.items():
        if any(f"{{{{ {v}" in source for v in TREND_VARIABLES if v != "brand"):
            continue  # a trend's templates get a trend, not an inquiry
        lean = needed(source, variables)
        assert render_template(source, lean) == render_template(source, variables), name
        assert "text" not in lean.get("inquiry", {}), name
