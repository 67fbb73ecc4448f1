"""The SLA report as CSV, for a spreadsheet: one row per group, exact numbers.

Durations are whole seconds and shares fractions (0-1), so a spreadsheet can compute with them;
``dimension`` says what a row groups by (``all`` for the total, ``day`` for a day's inquiries).
"""

from __future__ import annotations

import csv
import io

from careflow.audit.sla import Figures, SlaReport

FIGURES = tuple(name for name in Figures.model_fields if name != "qa_average")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def _name(value: str) -> str:
    """A group's name as text: a leading ``= + - @`` would make a spreadsheet run it as a formula
    (agents' and categories' names come from people)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def sla_csv(report: SlaReport) -> str:
    """Header, the total, each group of each dimension, then each day; one ``qa_<criterion>``
    column per rubric criterion reviewed."""
    groups = [report.total, *(f for g in report.by.values() for f in g.values())]
    criteria = sorted({c for f in groups for c in f.qa_average})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(["dimension", "group", *FIGURES, *(f"qa_{c}" for c in criteria)])

    def row(dimension: str, group: str, f: Figures) -> None:
        values = f.model_dump()
        writer.writerow(
            [
                dimension,
                _name(group),
                *(_cell(values[name]) for name in FIGURES),
                *(_cell(f.qa_average.get(c)) for c in criteria),
            ]
        )

    row("all", "all inquiries", report.total)
    for dimension, groups_of in report.by.items():
        for name, group in groups_of.items():
            row(dimension, name, group)
    for day, group in report.days.items():
        row("day", day, group)
    return out.getvalue()
