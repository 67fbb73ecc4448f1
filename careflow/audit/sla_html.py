"""The SLA report as one HTML page with charts, which opens offline.

Charts are drawn by matplotlib (its object API, no display) as SVG and inlined into the page; nothing is
fetched when the page opens. Jinja2 escapes every name (categories, queues and agents come from people).
Durations read as people say them (``2h 36m``), and each time axis takes the unit that fits its
largest value (seconds, minutes, hours or days), so a chart is never a row of slivers.
"""

from __future__ import annotations

import io

from jinja2 import Environment
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

from careflow.audit.readable import moment
from careflow.audit.sla import (
    Figures,
    SlaReport,
    format_csat,
    format_qa,
    format_seconds,
    format_share,
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>careflow response times</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: right;
border-bottom: 1px solid #eee; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; } .charts svg { max-width: 100%; height: auto; } .muted { color: #666; }
</style></head><body>
<h1>Response times{% if r.since %} since {{ moment(r.since) }}{% endif %}</h1>
<p>{{ r.total.inquiries }} inquiries, {{ r.total.open }} open, {{ r.total.resolved }} resolved.
First response p50 {{ seconds(r.total.first_response_median_seconds) }}, resolution p50
{{ seconds(r.total.resolution_median_seconds) }}.
CSAT: {% if r.total.csat_responses %}{{ share(r.total.csat_satisfied_share) }} satisfied (4–5),
mean {{ "%.1f" | format(r.total.csat_mean) }} of 5, {{ r.total.csat_responses }} ratings of
{{ r.total.csat_asked }} asked{% elif r.total.csat_asked %}{{ r.total.csat_asked }} asked, no rating yet{% else %}not asked{% endif %}.</p>
{% macro rows(label, groups, people) %}
<table><tr><th>{{ label }}</th>{% if people %}<th>handled</th><th>resolved</th>{% else %}<th>inquiries</th><th>open</th>{% endif %}
<th>1st response p50</th><th>p90</th><th>resolution p50</th><th>p90</th>
<th>within internal</th><th>within published</th><th>breaches</th><th>reopened</th>
<th>CSAT <span class="muted">(4–5 · mean · rated/asked)</span></th><th>QA averages</th></tr>
{% for name, f in groups.items() %}<tr><td>{{ name }}</td><td>{{ f.inquiries }}</td>
<td>{{ f.resolved if people else f.open }}</td>
<td>{{ seconds(f.first_response_median_seconds) }}</td><td>{{ seconds(f.first_response_p90_seconds) }}</td>
<td>{{ seconds(f.resolution_median_seconds) }}</td><td>{{ seconds(f.resolution_p90_seconds) }}</td>
<td>{{ share(f.within_internal_share) }}</td><td>{{ share(f.within_published_share) }}</td>
<td>{{ f.breaches }}</td><td>{{ share(f.reopen_rate) }}</td><td>{{ csat(f) }}</td><td>{{ qa(f) }}</td></tr>{% endfor %}
</table>{% endmacro %}
{% if r.days %}<h2>Per day</h2>
<div class="charts">{{ trend }}</div>
{{ rows("day", r.days, False) }}{% endif %}
{% for dimension, groups in r.by.items() %}
<h2>By {{ dimension }}</h2>
<div class="charts">{{ charts[dimension] }}</div>
{{ rows(dimension, groups, dimension in ("agent", "team")) }}{% endfor %}
</body></html>
"""
_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)
_UNITS = (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0))


def time_unit(largest_seconds: float) -> tuple[str, float]:
    """The unit a time axis reads best in: the largest in which the longest bar is at least 2."""
    for name, size in _UNITS:
        if largest_seconds >= 2 * size:
            return name, size
    return "seconds", 1.0


def _svg(figure: Figure) -> Markup:
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp in the page
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg") :])  # drop the XML prolog: the SVG sits inside HTML


def _times(axes: Axes, title: str, p50: list[float | None], p90: list[float | None]) -> None:
    """p50 and p90 bars side by side, in the unit that fits the longest."""
    unit, size = time_unit(max([v for v in (*p50, *p90) if v is not None] or [0]))
    positions = range(len(p50))
    axes.barh([p - 0.2 for p in positions], [(v or 0) / size for v in p50], height=0.4, label="p50")
    axes.barh([p + 0.2 for p in positions], [(v or 0) / size for v in p90], height=0.4, label="p90")
    axes.set_title(f"{title} ({unit})")


def _chart(groups: dict[str, Figures]) -> Markup:
    """Three bar charts side by side: first response and resolution p50/p90, and shares within
    targets."""
    names = list(groups)
    positions = range(len(names))
    figure = Figure(figsize=(13, 0.5 * len(names) + 1.5))
    first, resolution, shares = figure.subplots(1, 3)
    _times(
        first,
        "first response",
        [groups[n].first_response_median_seconds for n in names],
        [groups[n].first_response_p90_seconds for n in names],
    )
    _times(
        resolution,
        "resolution",
        [groups[n].resolution_median_seconds for n in names],
        [groups[n].resolution_p90_seconds for n in names],
    )
    internal = [100 * (groups[n].within_internal_share or 0) for n in names]
    published = [100 * (groups[n].within_published_share or 0) for n in names]
    shares.barh([p - 0.2 for p in positions], internal, height=0.4, label="within internal")
    shares.barh([p + 0.2 for p in positions], published, height=0.4, label="within published")
    shares.set_xlim(0, 100)
    shares.set_title("share within target (%)")
    for axes in (first, resolution, shares):
        axes.set_yticks(list(positions), names)
        axes.invert_yaxis()
        axes.legend(loc="lower right", fontsize=8)
    return _svg(figure)


def _trend(days: dict[str, Figures]) -> Markup:
    """Per day: inquiries, first response p50 (in the unit that fits), and shares within the
    published window and of satisfied ratings."""
    names = list(days)
    figure = Figure(figsize=(13, 3.2))
    volume, times, shares = figure.subplots(1, 3)
    volume.bar(names, [days[d].inquiries for d in names])
    volume.set_title("inquiries")
    p50 = [days[d].first_response_median_seconds for d in names]
    unit, size = time_unit(max([v for v in p50 if v is not None] or [0]))
    times.plot(names, [None if v is None else v / size for v in p50], marker="o")
    times.set_title(f"first response p50 ({unit})")
    times.set_ylim(bottom=0)
    published = [days[d].within_published_share for d in names]
    satisfied = [days[d].csat_satisfied_share for d in names]
    shares.plot(names, [None if v is None else 100 * v for v in published], marker="o")
    shares.plot(names, [None if v is None else 100 * v for v in satisfied], marker="s")
    shares.legend(["within published", "CSAT 4–5"], loc="lower right", fontsize=8)
    shares.set_ylim(0, 100)
    shares.set_title("share (%)")
    for axes in (volume, times, shares):
        axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    return _svg(figure)


def sla_html(report: SlaReport) -> str:
    """The whole page: tables and inline SVG charts."""
    charts = {dimension: _chart(groups) for dimension, groups in report.by.items() if groups}
    return _TEMPLATE.render(
        r=report,
        charts=charts,
        trend=_trend(report.days) if report.days else "",
        seconds=format_seconds,
        share=format_share,
        csat=format_csat,
        qa=format_qa,
        moment=moment,
    )
