"""The terminal views: a closed inquiry is history, so it shows due times but no countdowns."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from careflow.terminal import status_view
from tests.audit.test_readable import POSTED, _status


def _text(status: object, now: object) -> str:
    console = Console(width=200, record=True)
    console.print(status_view(status, now))  # type: ignore[arg-type]
    return console.export_text()


def test_a_closed_inquiry_shows_no_countdowns() -> None:
    status = _status()  # closed, its clock met
    text = _text(status, POSTED + timedelta(minutes=10))
    assert " ago)" not in text and "(in " not in text
    assert "next due" not in text


def test_a_running_clock_counts_down_and_a_met_one_does_not() -> None:
    status = _status()
    running = status.clocks["acknowledge"].model_copy(update={"met_at": None})
    open_status = status.model_copy(
        update={
            "step": "acknowledge",
            "close_reason": None,
            "clocks": {"acknowledge": running},
            "next_due": running.internal_due,
        }
    )
    text = _text(open_status, POSTED + timedelta(minutes=10))
    assert "(in 20m)" in text and "next due" in text
    met = open_status.model_copy(update={"clocks": {"acknowledge": status.clocks["acknowledge"]}})
    assert "(in 20m)" not in _text(met, POSTED + timedelta(minutes=10)).split("Clocks")[1]


def test_status_shows_what_runs_the_inquiry_beside_the_ruleset() -> None:
    status = _status()
    versions = {"careflow_version": "0.1.0", "tzdata_version": "2026f", "engine_version": "1"}
    shown = status.model_copy(update={"ruleset": {**status.ruleset, **versions}})
    text = _text(shown, POSTED + timedelta(minutes=10))
    assert "run by careflow 0.1.0 · tzdata 2026f · engine 1" in text
    # Started before careflow recorded versions: said so, not guessed.
    assert "careflow not recorded · tzdata not recorded" in _text(status, POSTED)
