"""The SLA report as one HTML page with charts, which opens offline.

Charts are drawn by matplotlib (its object API, no display) as SVG and inlined into the page; nothing is
fetched when the page opens. Jinja2 escapes every name (categories and queues come from rules).
"""

from __future__ import annotations

import io

from jinja2 import Environment
from markupsafe import Markup
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

from careflow.audit.readable import moment
from careflow.audit.sla import Figures, SlaReport, format_seconds, format_share

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>careflow response times</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: right;
border-bottom: 1px solid #eee; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; } .charts svg { max-width: 100%; height: auto; }
</style></head><body>
<h1>Response times{% if r.since %} since {{ moment(r.since) }}{% endif %}</h1>
<p>{{ r.total.inquiries }} inquiries, {{ r.total.open }} open. CSAT: not collected.</p>
{% for dimension, groups in r.by.items() %}
<h2>By {{ dimension }}</h2>
<div class="charts">{{ charts[dimension] }}</div>
<table><tr><th>{{ dimension }}</th><th>inquiries</th><th>open</th><th>1st response p50</th><th>p90</th>
<th>within internal</th><th>within published</th><th>breaches</th><th>reopened</th></tr>
{% for name, f in groups.items() %}<tr><td>{{ name }}</td><td>{{ f.inquiries }}</td><td>{{ f.open }}</td>
<td>{{ seconds(f.first_response_median_seconds) }}</td><td>{{ seconds(f.first_response_p90_seconds) }}</td>
<td>{{ share(f.within_internal_share) }}</td><td>{{ share(f.within_published_share) }}</td>
<td>{{ f.breaches }}</td><td>{{ share(f.reopen_rate) }}</td></tr>{% endfor %}
</table>{% endfor %}
</body></html>
"""
_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def _chart(groups: dict[str, Figures]) -> Markup:
    """Two bar charts side by side: first-response p50/p90, and shares within targets."""
    names = list(groups)
    positions = range(len(names))
    figure = Figure(figsize=(10, 0.5 * len(names) + 1.5))
    times, shares = figure.subplots(1, 2)
    p50 = [(groups[n].first_response_median_seconds or 0) / 60 for n in names]
    p90 = [(groups[n].first_response_p90_seconds or 0) / 60 for n in names]
    times.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50")
    times.barh([p + 0.2 for p in positions], p90, height=0.4, label="p90")
    times.set_title("first response (minutes)")
    internal = [100 * (groups[n].within_internal_share or 0) for n in names]
    published = [100 * (groups[n].within_published_share or 0) for n in names]
    shares.barh([p - 0.2 for p in positions], internal, height=0.4, label="within internal")
    shares.barh([p + 0.2 for p in positions], published, height=0.4, label="within published")
    shares.set_xlim(0, 100)
    shares.set_title("share within target (%)")
    for axes in (times, shares):
        axes.set_yticks(list(positions), names)
        axes.invert_yaxis()
        axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp in the page
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg") :])  # drop the XML prolog: the SVG sits inside HTML


def sla_html(report: SlaReport) -> str:
    """The whole page: tables and inline SVG charts."""
    charts = {dimension: _chart(groups) for dimension, groups in report.by.items() if groups}
    return _TEMPLATE.render(
        r=report, charts=charts, seconds=format_seconds, share=format_share, moment=moment
    )
