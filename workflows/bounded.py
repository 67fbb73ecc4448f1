"""Bounded state: what an inquiry keeps of a long conversation (since the bounded-state patch).

A complaint thread that runs for months, or a bot talking to careflow, must not grow the state
without end: it is carried across continue-as-new (Temporal refuses payloads over 2 MB), shown by
the status query and returned as the result, and every event looked through it. The state keeps
the latest messages, timeline entries, rules fired, finished clocks and escalations, and counts
the rest in ``state.earlier`` with what still matters of them (missed windows, when the customer
last wrote). The workflow history keeps every signal, update and activity: the full transcript
is in the histories of the runs ``earlier.runs`` names, and of the current run.

Pure (no Temporal calls), so it can be tested alone and replayed.
"""

from __future__ import annotations

from typing import TypeVar

from workflows.clocks import ClockState
from workflows.state import (
    SHOWN_CLOCKS,
    SHOWN_ESCALATIONS,
    SHOWN_FIRED,
    SHOWN_MESSAGES,
    SHOWN_TIMELINE,
    Earlier,
    InquiryState,
)

PATCH = "bounded-state"
KEPT_MESSAGES = SHOWN_MESSAGES
KEPT_TIMELINE = SHOWN_TIMELINE
KEPT_FIRED = SHOWN_FIRED
KEPT_CLOCKS = SHOWN_CLOCKS
KEPT_ESCALATIONS = SHOWN_ESCALATIONS
# Platform message ids remembered to recognise a redelivered webhook: redeliveries come within
# minutes, not after five hundred newer messages.
KEPT_SEEN = 500
KEPT_RUNS = 20  # earlier run ids named: the first and the latest
# Customer messages handled per turn of the loop: a customer (or a bot) writing without pause
# must not keep the workflow from continuing as new when its history is long; the rest wait in
# the inbox, which continue-as-new carries.
MESSAGES_PER_TURN = 50
T = TypeVar("T")


def _cut(items: list[T], kept: int) -> list[T]:
    """Remove and return all but the latest ``kept`` items (in place: ``items`` is the state's)."""
    cut = len(items) - kept
    if cut <= 0:
        return []
    gone = items[:cut]
    del items[:cut]
    return gone


def _add_names(names: list[str], clocks: list[ClockState], missed: str) -> None:
    for clock in clocks:
        verdict = clock.published if missed == "published" else clock.internal
        if verdict == "missed" and clock.name not in names:
            names.append(clock.name)


def trim(state: InquiryState) -> list[ClockState]:
    """Keep the latest of each list in ``state``, counting the rest in ``state.earlier``.

    Returns the finished clocks it let go (the workflow reports their verdicts as metrics, as it
    does for the clocks still kept when the inquiry closes). Costs no more than the few items
    added since the last call, whatever the conversation's length.
    """
    earlier = state.earlier
    messages = _cut(state.messages, KEPT_MESSAGES)
    earlier.messages += len(messages)
    latest_in = [m.at for m in messages if m.direction == "in"]
    if earlier.customer_last_at is not None:
        latest_in.append(earlier.customer_last_at)
    earlier.customer_last_at = max(latest_in, default=None)
    earlier.timeline += len(_cut(state.timeline, KEPT_TIMELINE))
    earlier.fired += len(_cut(state.fired, KEPT_FIRED))
    earlier.escalations += len(_cut(state.escalations, KEPT_ESCALATIONS))
    clocks = _cut(state.earlier_clocks, KEPT_CLOCKS)
    earlier.clocks += len(clocks)
    _add_names(earlier.breached, clocks, "published")
    _add_names(earlier.missed_internal, clocks, "internal")
    return clocks


def trim_seen(seen: dict[str, None]) -> None:
    """Forget all but the latest ``KEPT_SEEN`` platform message ids (insertion-ordered)."""
    while len(seen) > KEPT_SEEN:
        del seen[next(iter(seen))]


def ended_run(earlier: Earlier, run_id: str) -> None:
    """Name the run that just continued as new: its history holds what it trimmed."""
    earlier.run_count += 1
    earlier.runs.append(run_id)
    if len(earlier.runs) > KEPT_RUNS:
        del earlier.runs[1]  # keep the first: where the conversation began
