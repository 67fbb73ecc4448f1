"""The audit report as one self-contained HTML page, to attach to a case.

Jinja2 with autoescaping on: customer text and handles are data, and render as text.
"""

from __future__ import annotations

from jinja2 import Environment

from careflow.audit.readable import duration, moment
from careflow.audit.report import InquiryReport
from workflows import engine_version

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Inquiry {{ r.id }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: left;
vertical-align: top; border-bottom: 1px solid #eee; } th { background: #f6f6f6; }
.met { color: #1a7f37; } .missed-internal { color: #9a6700; } .breached-published { color: #cf222e;
font-weight: bold; } .pending { color: #555; } .muted { color: #666; } code { font-size: 12px; }
</style></head><body>
<h1>Inquiry {{ r.id }}</h1>
<p>{{ r.inquiry.kind }} post on <b>{{ r.inquiry.channel }}</b> by <b>@{{ r.inquiry.author.handle }}</b>
{%- if r.inquiry.author.name %} ({{ r.inquiry.author.name }}){% endif %},
{{ moment(r.inquiry.created_at) }}{% if r.inquiry.url %} — <a href="{{ r.inquiry.url }}">{{ r.inquiry.url }}</a>{% endif %}</p>
<blockquote>{{ r.inquiry.text }}</blockquote>
<p>Ruleset <b>{{ r.ruleset.name }}</b> <code>sha256 {{ r.ruleset.digest }}</code>
<span class="muted">({{ r.ruleset.file }})</span>,
run by <span class="versions">{{ versions }}</span></p>
<p>Category <b>{{ r.category }}</b> · priority <b>{{ r.priority }}</b> · queue <b>{{ r.queue }}</b>
· windows <b>{{ r.windows }}</b> · privatize <b>{{ r.privatize }}</b>
{%- if r.tags %} · tags {{ r.tags | join(", ") }}{% endif %}{% if r.agent %} · agent <b>{{ r.agent }}</b>{% endif %}</p>

<h2>Outcome</h2>
<p><b>{{ r.outcome.state }}</b>{% if r.outcome.close_reason %}: {{ r.outcome.close_reason }}{% endif %}
{%- if r.outcome.resolution_code %} · resolution <b>{{ r.outcome.resolution_code }}</b>{% if r.outcome.resolution_note %} ({{ r.outcome.resolution_note }}){% endif %}{% endif %}
· reopened {{ r.outcome.reopens }} time(s)
{%- if r.outcome.first_response_seconds is not none %} · first response after {{ duration(r.outcome.first_response_seconds) }}{% endif %}
{%- if r.outcome.resolution_seconds is not none %} · resolved after {{ duration(r.outcome.resolution_seconds) }}{% endif %}
{%- if r.outcome.rating %} · CSAT <b>{{ r.outcome.rating.score }}/{{ r.outcome.rating.scale }}</b>{% if r.outcome.rating.comment %} ({{ r.outcome.rating.comment }}){% endif %}{% endif %}</p>
{% if r.outcome.escalations %}<ul>{% for e in r.outcome.escalations %}<li>{{ moment(e.at) }} escalated to {{ e.to }} by {{ e.by }}: {{ e.reason }}</li>{% endfor %}</ul>{% endif %}

<h2>Clocks</h2>
<table><tr><th>clock</th><th>started</th><th>internal due</th><th>published due</th><th>verdict</th><th>met / stopped</th></tr>
{% for c in r.clocks %}<tr><td>{{ c.clock }}</td><td>{{ moment(c.started_at) }}</td><td>{{ moment(c.internal_due) }}</td>
<td>{{ moment(c.published_due) }}</td><td class="{{ c.verdict | replace(' ', '-') }}">{{ c.verdict }}</td>
<td>{% if c.met_at %}met {{ moment(c.met_at) }}{% elif c.stopped_at %}stopped {{ moment(c.stopped_at) }}{% endif %}</td></tr>
{% endfor %}</table>

<h2>Rules that fired</h2>
<table><tr><th>at</th><th>event</th><th>rule</th><th>why</th></tr>
{% for f in r.fired %}<tr><td>{{ moment(f.at) }}</td><td>{{ f.event }}</td><td><b>{{ f.rule }}</b></td>
<td>{{ f.why | join("; ") }}</td></tr>{% endfor %}</table>

<h2>Messages</h2>
{% set left_out = r.earlier.note(r.earlier.messages, "messages") %}{% if left_out %}<p><i>({{ left_out }})</i></p>{% endif %}
<table><tr><th>at</th><th></th><th>by</th><th>kind</th><th>text</th></tr>
{% for m in r.messages %}<tr><td>{{ moment(m.at) }}</td><td>{{ "←" if m.direction == "in" else "→" }}</td>
<td>{{ m.by }}</td><td>{{ m.kind }}{% if m.private %} (private){% endif %}</td><td>{{ m.text }}</td></tr>{% endfor %}</table>

<h2>Timeline</h2>
{% set left_out = r.earlier.note(r.earlier.timeline, "timeline entries") %}{% if left_out %}<p><i>({{ left_out }})</i></p>{% endif %}
<table><tr><th>at</th><th>event</th><th>detail</th></tr>
{% for t in r.timeline %}<tr><td>{{ moment(t.at) }}</td><td>{{ t.event }}</td><td>{{ t.detail }}</td></tr>{% endfor %}</table>
</body></html>
"""

_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def report_html(report: InquiryReport) -> str:
    """The whole page; it needs no network to open."""
    return _TEMPLATE.render(
        r=report, duration=duration, moment=moment, versions=engine_version.describe(report.ruleset)
    )
