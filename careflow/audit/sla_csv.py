"""The SLA report as CSV, for a spreadsheet: one row per group, exact numbers.

Durations are whole seconds and shares fractions (0-1), so a spreadsheet can compute with them;
``dimension`` says what a row groups by (``all`` for the total, ``day`` for a day's inquiries).
"""

from __future__ import annotations

import csv
import io

from careflow.audit.sla import Figures, SlaReport

COLUMNS = (
    "dimension",
    "group",
    *Figures.model_fields,
)


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
    """Header, the total, each group of each dimension, then each day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(COLUMNS)

    def row(dimension: str, group: str, f: Figures) -> None:
        values = f.model_dump()
        writer.writerow(
            [dimension, _name(group), *(_cell(values[name]) for name in Figures.model_fields)]
        )

    row("all", "all inquiries", report.total)
    for dimension, groups in report.by.items():
        for name, group in groups.items():
            row(dimension, name, group)
    for day, group in report.days.items():
        row("day", day, group)
    return out.getvalue()
