"""Finding a post that an earlier attempt may have made, so a retry does not post it twice.

Neither X nor Meta takes an idempotency key. When an attempt's worker died, or its answer was
lost (a timeout, a dropped connection), after the request left, the platform may hold the post
while careflow's record does not. The next attempt then lists the brand's own recent posts where
this one would be (its replies on the tweet or comment, its messages in the thread) and takes
one as the earlier attempt's when all of these hold — the marker is careflow's own:

- the brand wrote it (the listing is filtered by the brand's own account id);
- it replies to what this post replies to (where the listing says);
- it is not older than the first attempt (less a few minutes of clock difference);
- its text is the text careflow sent, as the platform shows it back (entities like ``&amp;``
  unescaped, links as ``t.co`` links, reply mentions X adds in front);
- no other key already claims it.

Pure: the listing is the platform module's job, the record's the caller's.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Clocks differ: careflow's record and the platform's timestamps, and X's are to the second.
CLOCK_SKEW = timedelta(minutes=5)
# Listings are read newest first, a page at a time; an earlier attempt is seconds or minutes old,
# so a few pages reach it unless the brand posted hundreds of times in between.
LOOK_PAGES = 5


@dataclass(frozen=True)
class Seen:
    """One of the brand's posts as a platform lists it."""

    id: str
    text: str
    at: datetime | None  # when the platform says it was posted
    follows: str | None = None  # what it replies to, when the listing says


def comparable(text: str) -> str:
    """A text as careflow can compare it with what the platform shows back: HTML entities
    unescaped, Unicode composed, every link one placeholder (X shortens them), the leading
    ``@mentions`` dropped (X may add the replied-to author's), whitespace collapsed. Linear."""
    words = unicodedata.normalize("NFC", html.unescape(text)).split()
    start = 0
    while start < len(words) and words[start].startswith("@"):
        start += 1
    return " ".join(
        "<link>" if word.lower().startswith(("http://", "https://")) else word
        for word in words[start:]
    )


def earlier_attempt(
    seen: Iterable[Seen],
    text: str,
    follows: str | None,
    since: datetime,
    taken: Callable[[str], bool],
) -> str | None:
    """The id of the post an earlier attempt made, if ``seen`` holds one (the oldest match)."""
    wanted = comparable(text)
    matches = [
        post
        for post in seen
        if (follows is None or post.follows is None or post.follows == follows)
        and (post.at is None or post.at >= since - CLOCK_SKEW)
        and comparable(post.text) == wanted
    ]
    matches.sort(key=lambda post: (post.at is None, post.at or since))
    for post in matches:
        if not taken(post.id):
            return post.id
    return None


def platform_time(value: object) -> datetime | None:
    """X's ``2026-11-30T18:31:02.000Z`` and Graph's ``2026-11-30T18:31:02+0000``."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
