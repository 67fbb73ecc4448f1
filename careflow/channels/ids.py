"""The ids a post carries, checked before anything reaches Temporal.

A conversation id becomes the workflow id ``inquiry-<channel>-<conversation>``, which Temporal
limits in bytes (``limit.maxIDLength``, 1000 by default) and the agent API puts in URLs
(``/inquiries/{id}``); post ids are kept in every inquiry's history to recognise redeliveries;
author ids key the customer across channels. An id nobody can use later (too long in UTF-8, a
control character, only spaces, a ``..`` path segment) is refused at the door with a 422 naming
the field, instead of a 503 the platform would retry for ever.
"""

from __future__ import annotations

import unicodedata

from careflow.engine.post import Inquiry

# Well under Temporal's 1000 bytes for the whole workflow id, which adds "inquiry-", the channel
# (MAX_CHANNEL characters at most, ASCII by its pattern) and a dash.
MAX_ID_BYTES = 512
MAX_CHANNEL = 64
# Control and format characters (NUL, newlines, bidi overrides, zero-width), line and paragraph
# separators and surrogates: invisible or unprintable in a URL, a log line or Temporal's UI.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def id_problem(value: str, *, in_url: bool = False) -> str | None:
    """Why ``value`` cannot be an id, or None. ``in_url``: it becomes part of the agent API's
    paths, where ``/`` separates segments and clients drop ``.`` and ``..`` segments."""
    size = len(value.encode())
    if size > MAX_ID_BYTES:
        return f"is too long: {size} bytes in UTF-8, at most {MAX_ID_BYTES}"
    if not value.strip():
        return "must not be empty or only spaces"
    if value != value.strip():
        return "must not begin or end with whitespace"
    for character in value:
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return f"must not contain the control or format character U+{ord(character):04X}"
    if in_url and any(segment in ("", ".", "..") for segment in value.split("/")):
        return "must not have an empty, '.' or '..' segment between '/' (it is part of URLs)"
    return None


def id_problems(post: Inquiry) -> list[tuple[str, str]]:
    """``(field, why)`` for each id of ``post`` that cannot be used (empty when all can)."""
    found = [
        (field, why)
        for field, value, in_url in (
            ("id", post.id, False),
            ("conversation_id", post.conversation_id, True),
            ("author.id", post.author.id, False),
        )
        if (why := id_problem(value, in_url=in_url)) is not None
    ]
    if len(post.channel) > MAX_CHANNEL:
        found.append(("channel", f"is too long: at most {MAX_CHANNEL} characters"))
    return found
