"""Temporal's errors in one line a person can act on (``CareflowError``), not a gRPC traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError, RPCStatusCode

from careflow.errors import CareflowError


def explain_error(
    error: BaseException, inquiry_id: str | None, address: str, noun: str = "inquiry"
) -> str | None:
    """The one-line meaning of a Temporal error, or None when it is not one we understand;
    ``noun`` names what the id is of (``proactive post``: not every workflow is an inquiry)."""
    what = f"{noun} {inquiry_id}" if inquiry_id else f"the {noun}"
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return cause.message if isinstance(cause, ApplicationError) else str(cause)
    if isinstance(error, WorkflowQueryFailedError):
        return error.message
    if isinstance(error, WorkflowQueryRejectedError):
        return f"{what} cannot answer now (status {error.status})"
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        return f"{what} did not answer in time: is a careflow worker running?"
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            if "already completed" in error.message:
                return f"{what} is closed"
            return f"no {noun} with id {inquiry_id}" if inquiry_id else error.message
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return unreachable(address)
        return f"Temporal refused: {error.message}"
    if isinstance(error, RuntimeError) and str(error).startswith("Failed client connect"):
        return unreachable(address)
    return None


def unreachable(address: str) -> str:
    return f"cannot reach Temporal at {address} (is `careflow up` running?)"


def address_of(client: Client) -> str:
    return client.service_client.config.target_host


@contextmanager
def explained(
    client: Client | None, inquiry_id: str | None = None, noun: str = "inquiry"
) -> Iterator[None]:
    """Turn the Temporal errors we understand into ``CareflowError``; let the others through."""
    try:
        yield
    except (TemporalError, RuntimeError, TimeoutError) as error:
        address = address_of(client) if client else "?"
        message = explain_error(error, inquiry_id, address, noun)
        if message is None:
            raise
        raise CareflowError(message) from error
