"""The what-if report as one self-contained HTML page, for a rule review.

Jinja2 with autoescaping on: customer text is data, and renders as text.
"""

from __future__ import annotations

from jinja2 import Environment

from careflow.whatif.compare import as_plain
from careflow.whatif.report import Report
from careflow.whatif.view import ROWS, segments_shown

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>What-if: {{ r.rules.name }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: left;
vertical-align: top; border-bottom: 1px solid #eee; } th { background: #f6f6f6; }
.up { color: #cf222e; } .down { color: #1a7f37; } .muted { color: #666; } code { font-size: 12px; }
</style></head><body>
<h1>What-if over {{ r.inquiries }} inquiries ({{ r.path }} path)</h1>
<p>New rules <b>{{ r.rules.name }}</b> <code>{{ r.rules.file }} sha256 {{ r.rules.digest[:12] }}</code>,
compared with {% if r.baseline == "history" %}the rules each inquiry ran with{% else %}<b>{{ r.baseline.name }}</b>
<code>{{ r.baseline.file }} sha256 {{ r.baseline.digest[:12] }}</code>{% endif %}.</p>
<h2>Totals</h2>
<table><tr><th></th><th>before</th><th>after</th><th>change</th></tr>
{% for key, label in rows %}{% set b = r.totals.before[key] %}{% set a = r.totals.after[key] %}
<tr><td>{{ label }}</td><td>{{ b }}</td><td>{{ a }}</td>
<td class="{{ 'up' if a > b else 'down' if a < b else 'muted' }}">{{ '%+d' % (a - b) if a != b else '=' }}</td></tr>
{% endfor %}</table>
{% for title, key in [("Newly dropped", "gained"), ("No longer dropped", "lost")] %}{% if r.drops[key] %}
<h2>{{ title }}: {{ r.drops[key] | length }}</h2>
<table><tr><th>rule</th><th>inquiry</th><th>text</th></tr>
{% for d in r.drops[key] %}<tr><td>{{ d.rule }}</td><td><code>{{ d.workflow_id }}</code></td><td>{{ d.text }}</td></tr>{% endfor %}
</table>{% endif %}{% endfor %}
{% if r.moved %}<h2>Moved</h2>
<table><tr><th>field</th><th>before</th><th>after</th><th>inquiries</th><th>rules</th><th>examples</th></tr>
{% for m in r.moved %}<tr><td>{{ m.field }}</td><td>{{ plain(m.before) }}</td><td>{{ plain(m.after) }}</td><td>{{ m.count }}</td>
<td>{{ m.rules | join(", ") }}</td><td><code>{{ m.examples | join(", ") }}</code></td></tr>{% endfor %}
</table>{% endif %}
{% if r.topics %}<h2>Topics</h2>
<p class="muted">Inquiries not dropped that match each topic; the full list of inquiries whose topics moved is under "Every change" (field <code>topics</code>).</p>
<table><tr><th>topic</th><th>before</th><th>after</th><th>change</th><th>gained</th><th>lost</th></tr>
{% for t in r.topics %}<tr><td>{{ t.topic }}</td><td>{{ t.before }}</td><td>{{ t.after }}</td>
<td class="{{ 'up' if t.after > t.before else 'down' if t.after < t.before else 'muted' }}">{{ '%+d' % (t.after - t.before) if t.after != t.before else '=' }}</td>
<td>{% if t.gained %}{{ t.gained }}: <code>{{ t.examples_gained | join(", ") }}</code>{% else %}-{% endif %}</td>
<td>{% if t.lost %}{{ t.lost }}: <code>{{ t.examples_lost | join(", ") }}</code>{% else %}-{% endif %}</td></tr>{% endfor %}
</table>{% endif %}
{% if show_segments %}<h2>Segments</h2>
<table><tr><th>segment</th><th>before</th><th>after</th></tr>
{% for s in r.segments %}<tr><td>{{ s.segment }}</td><td>{{ s.before }}</td><td>{{ s.after }}</td></tr>{% endfor %}
</table>{% endif %}
{% if r.changes %}<h2>Every change</h2>
<table><tr><th>inquiry</th><th>field</th><th>before</th><th>after</th><th>rule</th></tr>
{% for c in r.changes %}<tr><td><code>{{ c.workflow_id }}</code></td><td>{{ c.field }}</td><td>{{ plain(c.before) }}</td>
<td>{{ plain(c.after) }}</td><td>{{ c.rule or "" }}</td></tr>{% endfor %}
</table>{% else %}<p>No inquiry would change.</p>{% endif %}
{% if r.diverged %}<h2>Diverged</h2><ul>{% for d in r.diverged %}
<li><code>{{ d.workflow_id }}</code> ({{ d.side }}): {{ d.reason }}</li>{% endfor %}</ul>{% endif %}
{% if r.skipped %}<h2>Skipped</h2><ul>{% for s in r.skipped %}
<li><code>{{ s.workflow_id }}</code>: {{ s.reason }}</li>{% endfor %}</ul>{% endif %}
</body></html>
"""

_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def report_html(report: Report) -> str:
    """The whole page; it needs no network to open."""
    return _TEMPLATE.render(
        r=report.model_dump(mode="json"),
        rows=ROWS,
        plain=as_plain,
        show_segments=segments_shown(report),
    )
