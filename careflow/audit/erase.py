"""``careflow audit erase --customer CHANNEL:ID``: a customer's data, gone on request.

Deletes each of the customer's closed inquiries from Temporal (DeleteWorkflowExecution: the
history and its visibility entry), and their lines in the delivery record and the sandbox
outbox. Refuses while any of the customer's inquiries is open: erasing a running inquiry would
lose a conversation still being answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus

from activities.adapters import sandbox
from activities.adapters.record import DeliveryRecord
from careflow.temporal.customers import CustomerId, CustomerIds
from careflow.temporal.explain import explained


class EraseRefused(ValueError):
    """Nothing was erased, and the sentence says why."""


@dataclass
class Erased:
    """What erasing deleted."""

    runs: list[tuple[str, str]] = field(default_factory=list)  # (workflow id, run id)
    delivery_rows: int = 0
    outbox_lines: int = 0


def customer_of(given: str, customers: CustomerIds) -> CustomerId:
    """``CHANNEL:ID`` as the ``CareCustomer`` values intake stores: the keyed hash, and the raw
    id inquiries started before it carry."""
    channel, _, person = given.partition(":")
    customer = customers.of(channel, person) if channel and person else None
    if customer is None:
        raise EraseRefused(f"--customer {given!r}: give CHANNEL:ID, e.g. x:1234567890")
    return customer


async def erase_customer(
    client: Client,
    namespace: str,
    given: str,
    *,
    customers: CustomerIds,
    deliveries: Path,
    outbox: Path,
) -> Erased:
    """Erase the customer ``given`` (``CHANNEL:ID``); EraseRefused when one inquiry is open."""
    query = customer_of(given, customers).clause
    with explained(client):
        found = [w async for w in client.list_workflows(query)]
        still_open = sorted(w.id for w in found if w.status == WorkflowExecutionStatus.RUNNING)
        if still_open:
            raise EraseRefused(
                f"{given} has open inquiries ({', '.join(still_open)}): close them first"
            )
        erased = Erased()
        for w in found:
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=namespace,
                    workflow_execution=WorkflowExecution(workflow_id=w.id, run_id=w.run_id),
                )
            )
            erased.runs.append((w.id, w.run_id))
    for workflow_id in sorted({w for w, _ in erased.runs}):
        if deliveries.exists():
            erased.delivery_rows += DeliveryRecord(deliveries).forget_inquiry(workflow_id)
        erased.outbox_lines += sandbox.forget_inquiry(outbox, workflow_id)
    return erased
