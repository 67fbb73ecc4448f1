"""``careflow audit report FILE``: one inquiry's report from an exported history, no server.

A closed inquiry's history ends with its result, which holds the whole status; a run that
continued as new hands its state to the next run, which gives the status as of that moment. A
history still open when exported holds neither: the report then needs the server.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from careflow.audit.facts import facts_of
from careflow.audit.redact import is_redacted
from careflow.audit.report import InquiryReport, build_report
from workflows.messages import InquiryInput, InquiryResult
from workflows.state import status_of


class OfflineReportError(ValueError):
    """A history the report cannot be made from, said plainly."""


async def offline_report(history: WorkflowHistory, converter: DataConverter) -> InquiryReport:
    """The report of the inquiry ``history`` is a run of."""
    last = history.events[-1]
    try:
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            payloads = last.workflow_execution_completed_event_attributes.result.payloads
            (result,) = await converter.decode(payloads, [InquiryResult])
            return build_report(result.status, result.kind)
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            payloads = last.workflow_execution_continued_as_new_event_attributes.input.payloads
            (carried,) = await converter.decode(payloads, [InquiryInput])
            if carried.state is not None:
                status = status_of(carried.state, history.workflow_id)
                return build_report(status, "open (continued as new; later runs not read)")
    except Exception as error:  # a codec or a model error: one line, not a traceback
        hint = " (a redacted export keeps its text masked)" if is_redacted(history) else ""
        raise OfflineReportError(
            f"cannot read the inquiry from the history: {error}{hint}"
        ) from None
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        raise OfflineReportError("the run continued as new without its state")
    ended = facts_of(history).ended
    if ended is not None:
        raise OfflineReportError(
            f"inquiry {history.workflow_id}'s run ended {ended}: it left no result to report from"
        )
    raise OfflineReportError(
        f"inquiry {history.workflow_id} was still open when this history was exported (it "
        "holds no result yet): run `careflow audit report ID` against the server, or export it "
        "again once it is closed"
    )
