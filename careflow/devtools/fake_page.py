"""The fake platform's posts as a page a person reads (``GET /_fake/``), newest first.

``GET /_fake/posts`` stays JSON for tests and scripts; a browser asking it for HTML is sent the
same page. Jinja2 with autoescaping: careflow's replies quote customers, and are data here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment

WHAT = {
    "tweet": "posted on X",
    "dm": "X direct message",
    "comment": "Facebook/Instagram comment",
    "mention_reply": "Instagram mention reply",
    "private_reply": "Meta private reply",
    "message": "Messenger/Instagram message",
    "webhook": "notification webhook",
    "chat_session": "live-chat session",
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Fake platform: what careflow posted</title>
<meta http-equiv="refresh" content="5">
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; color: #222; }
h1 { font-size: 1.3rem; } .muted { color: #666; font-size: 13px; }
ol { list-style: none; padding: 0; } li { border-bottom: 1px solid #eee; padding: .6rem 0; }
.what { font-weight: 600; } .kind-webhook .what, .kind-chat_session .what { color: #8250df; }
.kind-dm .what, .kind-message .what, .kind-private_reply .what { color: #0969da; }
.text { white-space: pre-wrap; margin: .2rem 0 0; }
</style></head><body>
<h1>What careflow posted on the fake X and Meta</h1>
<p class="muted">{{ posts | length }} post(s), newest first; this page reloads every 5 seconds.
The same as JSON: <a href="/_fake/posts">/_fake/posts</a>.</p>
{% if not posts %}<p>Nothing posted yet.</p>{% endif %}
<ol>{% for p in posts %}
<li class="kind-{{ p.kind }}"><span class="muted">{{ p.when }} · #{{ p.id }}</span>
<span class="what">{{ p.what }}</span>{% if p.to %} <span class="muted">{{ p.to }}</span>{% endif %}
<p class="text">{{ p.text }}</p></li>{% endfor %}
</ol></body></html>
"""
_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)


def _when(at: Any) -> str:
    try:
        return datetime.fromisoformat(str(at)).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(at or "")


def _to(post: dict[str, Any]) -> str:
    if post.get("in_reply_to"):
        return f"in reply to {post['in_reply_to']}"
    if post.get("recipient"):
        return f"to {post['recipient']}"
    if post.get("kind") == "webhook":
        return f"to {post.get('path', '')}"
    return ""


def posts_page(posts: list[dict[str, Any]]) -> str:
    """The page: one entry per post, newest first, what it was and where it went."""
    rows = [
        {
            "id": post.get("id"),
            "kind": post.get("kind"),
            "what": WHAT.get(str(post.get("kind")), str(post.get("kind"))),
            "when": _when(post.get("at")),
            "to": _to(post),
            "text": post.get("text") or "",
        }
        for post in reversed(posts)
    ]
    return _TEMPLATE.render(posts=rows)


def wants_html(accept: str) -> bool:
    """Whether a request's Accept header puts HTML first (a browser), not JSON (httpx, curl)."""
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first in ("text/html", "application/xhtml+xml")
