"""Who did what: an action's actor (name, role, channel, token id; or self-asserted from the CLI)
stays on the timeline entries the action made, behind the ``console-actors-recorded`` patch.
With CAREFLOW_RECORD_HISTORIES=1 the history is saved as ``actors-recorded`` for the replay test.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from tests.harness import careflow, example, keep_history, round_the_clock_pack
from workflows.actors import ACTORS_PATCH, Actor
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, AssignRequest, ResolveRequest

ANA = Actor(
    name="Ana", role="agent", channel="console", token_id="3f8820d0ff6b", authenticated=True
)
SAM = Actor(
    name="Sam", role="supervisor", channel="api", token_id="9a1b2c3d4e5f", authenticated=True
)
BO_CLI = Actor(name="Bo", channel="cli", authenticated=False)


def test_each_action_keeps_who_did_it_on_its_timeline_entries(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with careflow(tmp_path, round_the_clock_pack(tmp_path)) as h:
            handle = await h.start(example("question", await h.now()))
            await h.until(handle, lambda s: s.step == "acknowledge")
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", actor=ANA)
            )
            await handle.execute_update(
                InquiryWorkflow.assign, AssignRequest(agent="Sam", assignee="Bo", actor=SAM)
            )
            # A client from before actors were sent: its entries name nobody beyond the text.
            await handle.execute_update(
                InquiryWorkflow.assign, AssignRequest(agent="Sam", assignee="Cy")
            )
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Bo", code="answered", actor=BO_CLI)
            )
            status = await h.status(handle)
            by_event = {(e.event, e.detail): e.actor for e in status.timeline}
            assert by_event[("acknowledged", "Ana acknowledged the inquiry")] == ANA
            assert by_event[("assigned", "assigned to Bo by Sam")] == SAM
            assert by_event[("assigned", "assigned to Cy by Sam")] is None
            resolved = [e.event for e in status.timeline if e.actor == BO_CLI]
            assert resolved == ["resolved"]
            assert BO_CLI.describe() == "Bo from the CLI, self-asserted"
            assert ANA.describe() == "Ana (agent) in the console, token 3f8820d0ff6b"
            # What happened before anyone acted names no actor.
            assert status.timeline[0].actor is None
            # The actor reaches the status as JSON (the API's answer), never a token.
            dumped = json.loads(status.model_dump_json())
            assert {"name": "Ana", "role": "agent", "channel": "console"}.items() <= next(
                e["actor"] for e in dumped["timeline"] if e["actor"]
            ).items()

            await h.say(handle, "thanks, all good")
            await handle.result()
            history = await keep_history(handle, "actors-recorded")
            markers = [
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and ACTORS_PATCH.encode() in e.marker_recorded_event_attributes.SerializeToString()
            ]
            assert len(markers) == 1

    asyncio.run(scenario())
