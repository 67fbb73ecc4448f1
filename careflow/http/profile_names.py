"""Names for Messenger and Instagram customers, read from Meta's User Profile APIs at the intake.

Their webhooks carry only a page-scoped id (PSID, IGSID), so the default pack's "Hi {{
author.name }}" would greet a number. Before a delivery's inquiries are started, each private
Messenger or Instagram one without a name gets one from Graph with the Page token:

- Messenger: ``GET /{PSID}?fields=first_name,last_name,name`` → ``{"first_name": "Peter",
  "last_name": "Chang", "id": "<PSID>"}`` (developers.facebook.com, Messenger Platform, "User
  Profile API"; ``name`` is one of the ``public_profile`` fields of a User);
- Instagram: ``GET /{IGSID}?fields=name,username`` → ``{"name": "Peter Chang", "username":
  "peter_chang_", "id": "<IGSID>"}`` (developers.facebook.com, Instagram Messaging, "User Profile
  API": ``name`` may be null; the customer must have messaged the business).

Why here, before the start, and not in an activity: the name is then part of the workflow's
input, so the ``received`` rules and every template see it from the first event, and no
workflow code changes (an activity would add a command to every Meta history and need
``workflow.patched``). The cost is bounded so a delivery is never held up for long: each look-up
has a 2-second budget, the look-ups of one delivery run side by side, answers are cached per
customer (a bounded LRU: names for a day, failures for ten minutes), and after a rate limit
(429, Graph codes 4/17/32/613, or usage headers at 90 %) no look-up is made until it passes.
A failure of any kind — no Page token, a 4xx, a timeout — leaves the name unknown: the
inquiry is started all the same, and templates say the rule file's ``flow.unknown_name``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from careflow.engine.post import Author, Inquiry
from careflow.settings import PlatformSettings

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = httpx.Timeout(2.0, connect=1.0)
CACHE_LIMIT = 10_000  # customers remembered; the oldest is forgotten first
NAME_TTL = 24 * 3600.0  # people rename themselves, rarely
MISS_TTL = 600.0  # a profile that could not be read is not asked again for every message
RATE_LIMIT_PAUSE = 60.0  # when Graph says how long, that instead
NAME_LIMIT = 100  # as the queue's memo keeps a name
RATE_LIMIT_CODES = {4, 17, 32, 613, 80006}  # Graph's app, user, page and Messenger limits
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")
FIELDS = {"messenger": "first_name,last_name,name", "instagram": "name,username"}


class ProfileNames:
    """Looks customers' names up on Graph, cached and rate-limit aware; never fails."""

    def __init__(
        self,
        settings: PlatformSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        limit: int = CACHE_LIMIT,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.limit = limit
        self._transport = transport
        self._cache: OrderedDict[tuple[str, str], tuple[dict[str, str], float]] = OrderedDict()
        self._paused_until = 0.0
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def named(self, inquiries: list[Inquiry]) -> list[Inquiry]:
        """The inquiries, those that need a name given one where Graph has it (side by side)."""
        if not self.settings.meta_page_token or not any(map(_needs_name, inquiries)):
            return inquiries
        return list(await asyncio.gather(*(self._named(inquiry) for inquiry in inquiries)))

    async def _named(self, inquiry: Inquiry) -> Inquiry:
        if not _needs_name(inquiry):
            return inquiry
        profile = await self.profile(inquiry.channel, inquiry.author.id)
        return with_profile(inquiry, profile) if profile else inquiry

    async def profile(self, channel: str, person: str) -> dict[str, str]:
        """``name`` (and ``username`` on Instagram) of one customer; empty when unknown."""
        key = (channel, person)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and cached[1] > now:
            self._cache.move_to_end(key)
            return cached[0]
        if now < self._paused_until:
            return {}  # not cached: asked again once the limit has passed
        found = await self._ask(channel, person)
        if found is not None:
            self._remember(key, found, NAME_TTL if found else MISS_TTL)
        return found or {}

    def _remember(self, key: tuple[str, str], profile: dict[str, str], ttl: float) -> None:
        self._cache[key] = (profile, self.clock() + ttl)
        self._cache.move_to_end(key)
        while len(self._cache) > self.limit:
            self._cache.popitem(last=False)

    async def _ask(self, channel: str, person: str) -> dict[str, str] | None:
        """Graph's answer as a profile; ``{}`` when it has none, None when rate-limited."""
        url = f"{self.settings.meta_graph_base.rstrip('/')}/{quote(person, safe='')}"
        headers = {"Authorization": f"Bearer {self.settings.meta_page_token}"}
        try:
            response = await self._http().get(
                url, params={"fields": FIELDS[channel]}, headers=headers
            )
        except httpx.HTTPError as error:
            log.info("no %s profile name: %s", channel, type(error).__name__)
            return {}
        body = _json(response)
        if _rate_limited(response, body):
            self._pause(response)
            log.warning("Graph rate limit: profile names paused for %.0fs", RATE_LIMIT_PAUSE)
            return None
        if _usage_high(response):
            self._pause(response)
        if response.status_code != 200:
            log.info("no %s profile name: Graph answered %d", channel, response.status_code)
            return {}
        return _profile_of(body, person)

    def _pause(self, response: httpx.Response) -> None:
        wait = RATE_LIMIT_PAUSE
        value = response.headers.get("retry-after", "")
        if value.strip().isdigit():
            wait = min(float(value), 15 * 60.0)
        self._paused_until = self.clock() + wait

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (tests run several loops in one process)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=LOOKUP_TIMEOUT, transport=self._transport, follow_redirects=False
            )
            self._loop = loop
        return self._client


def _needs_name(inquiry: Inquiry) -> bool:
    return (
        inquiry.channel in FIELDS
        and inquiry.kind == "private"
        and not inquiry.author.name
        and inquiry.author.handle == inquiry.author.id
    )


def _clean(value: Any, person: str) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())[:NAME_LIMIT]  # no line breaks or tabs in a greeting
    return text if text and text != person else None


def _profile_of(body: dict[str, Any], person: str) -> dict[str, str]:
    """``name`` from ``name`` or ``first_name last_name``; Instagram's ``username`` beside."""
    parts = [_clean(body.get(key), person) for key in ("first_name", "last_name")]
    name = _clean(body.get("name"), person) or _clean(" ".join(p for p in parts if p), person)
    username = _clean(body.get("username"), person)
    profile = {"name": name} if name else {}
    return {**profile, "username": username} if username else profile


def with_profile(inquiry: Inquiry, profile: dict[str, str]) -> Inquiry:
    """The inquiry with the customer's name (and Instagram handle, in place of the id)."""
    author = inquiry.author.model_dump()
    author["name"] = profile.get("name") or author["name"]
    author["handle"] = profile.get("username") or author["handle"]
    return inquiry.model_copy(update={"author": Author.model_validate(author)})


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _rate_limited(response: httpx.Response, body: dict[str, Any]) -> bool:
    if response.status_code == 429:
        return True
    error = body.get("error")
    return isinstance(error, dict) and error.get("code") in RATE_LIMIT_CODES


def _usage_high(response: httpx.Response) -> bool:
    """Whether Graph's usage headers say a limit is 90 % used (they hold percentages)."""
    for header in USAGE_HEADERS:
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        if any(number >= 90 for number in _numbers(usage)):
            return True
    return False


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [n for key, item in value.items() if key != "type" for n in _numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []
