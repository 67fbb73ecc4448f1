"""The search attributes an inquiry keeps current, for the agents' queue and for reports.

``careflow up`` registers them on the embedded server and ``careflow setup`` on a cluster;
queries such as ``CareCategory='billing' AND CareStep='resolve'`` then work in the CLI and the UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
)

from careflow.engine.rating import on_five
from workflows.state import InquiryState, breached, missed_internal, next_due

CHANNEL = SearchAttributeKey.for_keyword("CareChannel")
CATEGORY = SearchAttributeKey.for_keyword("CareCategory")
PRIORITY = SearchAttributeKey.for_keyword("CarePriority")
QUEUE = SearchAttributeKey.for_keyword("CareQueue")
STEP = SearchAttributeKey.for_keyword("CareStep")
AGENT = SearchAttributeKey.for_keyword("CareAgent")
NEXT_DUE = SearchAttributeKey.for_datetime("CareNextDue")
BREACHED = SearchAttributeKey.for_keyword_list("CareBreached")
RULESET = SearchAttributeKey.for_keyword("CareRuleset")
# For the SLA report (``careflow report``), kept since the "sla-search-attributes" patch.
MISSED_INTERNAL = SearchAttributeKey.for_keyword_list("CareMissedInternal")
FIRST_RESPONSE = SearchAttributeKey.for_int("CareFirstResponseSeconds")
RESOLUTION = SearchAttributeKey.for_int("CareResolutionSeconds")
REOPENS = SearchAttributeKey.for_int("CareReopens")
# The customer across a platform's public and private channels, set by intake at start, so a
# DM can find the public inquiry that invited it: a keyed hash of the user id, "x:h:<hex>"
# (careflow.temporal.customers; inquiries started before it carry "x:<user id>").
CUSTOMER = SearchAttributeKey.for_keyword("CareCustomer")
# The platform ids of an X inquiry's tweets (the customer's and the brand's, careflow's replies
# among them), kept since the "x-thread" patch: a customer's reply to any of them joins the
# inquiry, whichever process takes the webhook in (careflow.temporal.intake).
THREAD = SearchAttributeKey.for_keyword_list("CareThread")
# Temporal bounds an attribute's size (2 KiB per value by default): tweet ids are at most 20
# digits, so the first post and the latest ids fit with room to spare.
THREAD_LIMIT = 48
# For ``careflow insights`` and the trend watch: the rule file's topics the inquiry matched and
# the customer's segment, kept since the "insights-topics" patch (see workflows.topics).
SEGMENT = SearchAttributeKey.for_keyword("CareSegment")
# SQL visibility (the dev server's SQLite too) takes at most 3 KeywordList attributes, all in
# use: topics are a Text attribute holding one token per topic (``topic_token``), which a
# visibility query matches word by word (``CareTopics = 'outage'``).
TOPICS = SearchAttributeKey.for_text("CareTopics")
TOPICS_LIMIT = 40  # topic names are short; this keeps the value far under Temporal's 2 KiB
_TOKEN_ESCAPES = {"x": "xx", "_": "xu", "-": "xd", ".": "xp"}
# The customer's rating on a 1-5 scale (the rule file's scale mapped), and when the follow-up
# asked for it: kept once an inquiry asks (since the "csat-rating" patch), for the CSAT report.
RATING = SearchAttributeKey.for_float("CareRating")
RATING_ASKED = SearchAttributeKey.for_datetime("CareRatingAsked")
# A quality review's status (workflows.qa): waiting, scored, disputed, final, settled.
REVIEW = SearchAttributeKey.for_keyword("CareReview")

# For the console's supervisor view, counted rather than listed: whether the author had the reach
# of the default pack's ``high-reach`` rule at the post (set by the intake at start, and the sign
# that the server has these two registered), and when the inquiry's running clocks first put it
# at risk: the earliest warning or internal target of any of them (kept since the
# "loose-supervisor-at-risk" patch). At risk now is ``CareAtRisk <= now`` or a breach.
HIGH_REACH = SearchAttributeKey.for_bool("CareHighReach")
HIGH_REACH_FOLLOWERS = 10_000
AT_RISK = SearchAttributeKey.for_datetime("CareAtRisk")

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    CHANNEL,
    CATEGORY,
    PRIORITY,
    QUEUE,
    STEP,
    AGENT,
    NEXT_DUE,
    BREACHED,
    RULESET,
    MISSED_INTERNAL,
    FIRST_RESPONSE,
    RESOLUTION,
    REOPENS,
    CUSTOMER,
    THREAD,
    SEGMENT,
    TOPICS,
    RATING,
    RATING_ASKED,
    REVIEW,
    HIGH_REACH,
    AT_RISK,
)

Wanted = list[tuple[SearchAttributeKey[Any], Any]]


def wanted(state: InquiryState, *, sla: bool) -> Wanted:
    """Each attribute an inquiry keeps, with its value now (None: unset); ``sla`` adds the ones
    for ``careflow report`` (inquiries started before their patch do without)."""
    values: Wanted = [
        (CHANNEL, state.inquiry.channel),
        (CATEGORY, state.values.category),
        (PRIORITY, state.values.priority),
        (QUEUE, state.values.queue),
        (STEP, state.step),
        (AGENT, state.agent),
        (NEXT_DUE, next_due(state)),
        (BREACHED, breached(state) or None),
        (RULESET, state.rules.digest),
    ]
    if sla:
        created = state.inquiry.created_at

        def seconds(at: datetime | None) -> int | None:
            return int((at - created).total_seconds()) if at is not None else None

        values += [
            (MISSED_INTERNAL, missed_internal(state) or None),
            (FIRST_RESPONSE, seconds(state.first_response_at)),
            (RESOLUTION, seconds(state.resolved_at)),
            (REOPENS, state.reopens or None),
        ]
    if state.rating_asked_at is not None:  # only inquiries that asked: others' histories stay
        rating = state.rating
        values += [
            (RATING_ASKED, state.rating_asked_at),
            (RATING, on_five(rating.score, rating.scale) if rating is not None else None),
        ]
    return values


def at_risk_from(state: InquiryState) -> datetime | None:
    """When the running clocks first put the inquiry at risk: the earliest warning, or internal
    target where no warning comes first (None: no clock runs). Fixed per clock, so it is
    written when a clock starts or stops, not as time passes."""
    found = [
        min(clock.internal_due, clock.warning_due or clock.internal_due)
        for clock in state.clocks.values()
        if clock.running
    ]
    return min(found) if found else None


def thread(state: InquiryState) -> list[str]:
    """The ids of the inquiry's public posts, in and out (a long reply's every part), first
    post first: at most ``THREAD_LIMIT``, the first and the latest, as a reply most likely
    answers a recent one."""
    ids = dict.fromkeys([state.inquiry.id])
    for message in state.messages:
        if not message.private:
            ids.update(dict.fromkeys(i for i in (message.id, *message.also) if i))
    found = list(ids)
    return found if len(found) <= THREAD_LIMIT else [found[0], *found[1 - THREAD_LIMIT :]]


def topic_token(name: str) -> str:
    """A topic name as one word that every visibility store indexes whole: lower case, and
    ``_ - .`` (which full-text search splits on) spelled ``xu xd xp`` (``x`` itself ``xx``), so
    ``late_delivery`` is ``latexudelivery`` and never matches topics ``late`` and ``delivery``."""
    return "".join(_TOKEN_ESCAPES.get(c, c) for c in name.lower())


def topics_text(topics: list[str]) -> str | None:
    """The CareTopics value: the topics' tokens, space-separated (None: no topic)."""
    return " ".join(topic_token(t) for t in topics[:TOPICS_LIMIT]) or None


def insights(state: InquiryState, topics: list[str]) -> Wanted:
    """The segment and topics, for inquiries that keep them (``InquiryWorkflow._keeps_topics``)."""
    return [(SEGMENT, state.values.segment), (TOPICS, topics_text(topics))]


def changes(indexed: dict[str, Any], values: Wanted) -> list[SearchAttributeUpdate[Any]]:
    """The upserts that bring the attributes to ``values``; ``indexed`` remembers what was
    written (an attribute never written counts as unset), so unchanged ones are not rewritten."""
    updates: list[SearchAttributeUpdate[Any]] = []
    for key, value in values:
        if indexed.get(key.name, None if value is None else ...) == value:
            continue
        indexed[key.name] = value
        updates.append(key.value_unset() if value is None else key.value_set(value))
    return updates


_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def dev_server_flags() -> list[str]:
    """``--search-attribute NAME=TYPE`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_TYPE_NAMES[key.indexed_value_type]}"]
    return flags
