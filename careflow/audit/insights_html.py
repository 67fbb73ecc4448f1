"""The insights report as one HTML page that opens offline: ``careflow insights --html`` writes
it, and the console serves it to supervisors at ``/supervisor/insights``.

Jinja2 escapes every name and phrase (topics and segments come from rules, phrases from customers).
"""

from __future__ import annotations

from jinja2 import Environment

from careflow.audit.readable import moment
from careflow.temporal.insights import InsightsReport

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>careflow insights</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: right;
border-bottom: 1px solid #eee; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; } .up { color: #b00020; } .down { color: #1b5e20; }
.bar { display: inline-block; height: .6rem; background: #5c6bc0; vertical-align: middle; }
small { color: #666; }
</style></head><body>
<h1>What customers talk about</h1>
<p>{{ moment(r.since) }} to {{ moment(r.until) }}, against {{ moment(r.previous_since) }} to
{{ moment(r.since) }}: {{ r.total }} inquiries ({{ pct(r.total, r.previous_total) }}).</p>
<h2>Topics</h2>
{% if not r.topics %}<p>The rule file has no <code>topics:</code> yet.</p>{% else %}
<table><tr><th>topic</th><th>inquiries</th><th>before</th><th>change</th><th></th><th>examples</th></tr>
{% for t in r.topics %}<tr><td>{{ t.topic }}</td><td>{{ t.count }}</td><td>{{ t.previous }}</td>
<td class="{{ 'up' if t.count > t.previous else 'down' if t.count < t.previous else '' }}">{{ pct(t.count, t.previous) }}</td>
<td><span class="bar" style="width: {{ (100 * t.count / most)|round|int }}px"></span></td>
<td>{% for id in t.examples %}<a href="/inquiries/{{ id }}">{{ id }}</a> {% endfor %}</td></tr>{% endfor %}
</table>{% endif %}
<h2>By {{ r.by }}</h2>
<table><tr><th>topic</th>{% for g in r.groups %}<th>{{ g }}</th>{% endfor %}</tr>
{% for topic in ["(all)"] + r.topics|map(attribute="topic")|list %}<tr><td>{{ topic }}</td>
{% for g in r.groups %}{% set c = cells.get((topic, g)) %}<td>{% if c %}{{ c.count }} <small>{{ pct(c.count, c.previous) }}</small>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Emerging phrases</h2>
<p><small>Rising in recent inquiries that no topic covers: candidates for a new topic.</small></p>
{% if not r.phrases %}<p>Nothing rising.</p>{% else %}
<table><tr><th>phrase</th><th>inquiries</th><th>before</th><th>ratio</th><th>examples</th></tr>
{% for p in r.phrases %}<tr><td>{{ p.phrase }}</td><td>{{ p.count }}</td><td>{{ p.baseline }}</td>
<td>×{{ p.ratio }}</td><td>{% for id in p.examples %}<a href="/inquiries/{{ id }}">{{ id }}</a> {% endfor %}</td></tr>{% endfor %}
</table>{% endif %}
<p><small>{{ r.visibility_calls }} visibility calls, {{ r.texts_read }} post starts read.</small></p>
</body></html>
"""
_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def percent_change(count: int, previous: int) -> str:
    """``+40%``, ``-10%``, ``new`` (nothing before) or ``±0``."""
    if previous == 0:
        return "new" if count else "±0"
    change = round(100 * (count - previous) / previous)
    return f"{change:+d}%" if change else "±0"


def insights_html(report: InsightsReport) -> str:
    """The whole page."""
    cells = {(c.topic, c.group): c for c in report.cells}
    most = max([t.count for t in report.topics] + [1])
    return _TEMPLATE.render(r=report, cells=cells, most=most, moment=moment, pct=percent_change)
