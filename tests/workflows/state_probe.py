"""The inquiry workflow with one more query that answers its whole state (test_status_query.py).

Kept in its own module: the sandbox re-imports the module that defines a workflow on every run.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.inquiry import InquiryWorkflow
    from workflows.messages import InquiryInput, InquiryResult

PROBE_NAME = "InquiryStateProbe"


@workflow.defn(name=PROBE_NAME)
class InquiryStateProbe(InquiryWorkflow):
    """The inquiry, unchanged, and a ``state`` query to see what other queries leave behind."""

    @workflow.init
    def __init__(self, input: InquiryInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: InquiryInput) -> InquiryResult:
        return await super().run(input)

    @workflow.query(name="state")
    def state_dump(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")
