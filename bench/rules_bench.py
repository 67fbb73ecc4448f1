"""Benchmark careflow's rule evaluation against hand-written Python, rule-engine and zen-engine.

Why: careflow runs every rule of a pack on every post of the firehose, so evaluation speed is a
product requirement. This script generates one realistic 100-rule pack and 100,000 synthetic
inquiries (both seeded, so every run measures the same work), proves that all four
implementations reach exactly the same decisions, then times them in one run so the ratios are
comparable. The project's aims (careflow within 2x of hand-written Python, at least 30x faster
than rule-engine) are printed next to the figures, never asserted: timing is too noisy to fail on.

Run: ``.venv/bin/python bench/rules_bench.py [--quick] [--inquiries N] [--rules N] [--show-pack] [--show-code]``
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rule_engine
import zen

from careflow.engine.post import Author, Inquiry
from careflow.engine.ruleset import Decision, RuleFileError, ruleset_from_text

# (dropped, drop_reason, category, priority, queue, windows, privatize, tags, fired)
Outcome = tuple[bool, str | None, str, str, str, str, str, tuple[str, ...], tuple[str, ...]]
Evaluator = Callable[[Inquiry], Any]

PACK_FILE = "bench-pack.yaml"
EVENT = "received"
PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULTS = {
    "category": "general",
    "priority": "normal",
    "queue": "general",
    "windows": "standard",
    "privatize": "never",
}
VALUE_KEYS = ("category", "priority", "queue", "windows", "privatize")
# careflow field -> variable / context key used by the other three implementations.
FIELD_VARS = {
    "text": "text",
    "channel": "channel",
    "kind": "kind",
    "author.followers": "author_followers",
    "author.verified": "author_verified",
    "category": "category",
    "priority": "priority",
    "queue": "queue",
    "windows": "windows",
    "privatize": "privatize",
    "tags": "tags",
}

# --------------------------------------------------------------------------- vocabulary

# Every phrase starts and ends with a word character and uses only [a-z0-9' -], so careflow's
# whole-word regex (?<!\w)...(?!\w) is exactly \b...\b, which zen's Rust regex can express.


def _phrases(text: str) -> tuple[str, ...]:
    """A vocabulary written as ``a|b c|d``: compact to read, one phrase per alternative."""
    return tuple(text.split("|"))


# topic (= category) -> (queue, phrases customers use for it)
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "late_delivery": (
        "logistics",
        _phrases(
            "late|hasn't arrived|not delivered|still waiting|tracking|delayed|where is my order"
            "|courier|shipment|missed delivery|lost parcel|dispatch"
        ),
    ),
    "returns": (
        "returns",
        _phrases(
            "return|returns|refund|money back|send it back|exchange|return label|restocking fee"
            "|wrong size|changed my mind"
        ),
    ),
    "warranty": (
        "product",
        _phrases(
            "warranty|broken|defective|faulty|stopped working|repair|cracked|won't turn on"
            "|replacement|guarantee"
        ),
    ),
    "billing": (
        "billing",
        _phrases(
            "charged twice|double charged|overcharged|invoice|billing|payment failed|receipt"
            "|unauthorized charge|card declined|chargeback"
        ),
    ),
    "gift_cards": (
        "gift_cards",
        _phrases("gift card|voucher|redeem|e-gift|promo code|coupon|store credit|balance"),
    ),
    "account": (
        "accounts",
        _phrases(
            "password|log in|login|locked out|my account|reset|two-factor|verification code"
            "|username|sign in"
        ),
    ),
    "subscription": (
        "subscriptions",
        _phrases(
            "subscription|renewal|auto-renew|membership|cancel my plan|monthly fee|free trial"
            "|unsubscribe"
        ),
    ),
    "app": (
        "digital",
        _phrases("app|crash|crashes|bug|glitch|error message|checkout|website|page won't load"),
    ),
    "store": (
        "retail",
        _phrases("store|cashier|staff|long queue|manager|rude employee|opening hours|parking"),
    ),
    "product": (
        "presales",
        _phrases(
            "in stock|restock|availability|ingredients|how to use|compatible|dimensions|colour"
        ),
    ),
}
TOPIC_WEIGHTS = {
    "late_delivery": 20,
    "returns": 14,
    "warranty": 12,
    "billing": 10,
    "gift_cards": 6,
    "account": 9,
    "subscription": 6,
    "app": 9,
    "store": 6,
    "product": 8,
}
LEGAL = _phrases(
    "lawyer|attorney|lawsuit|journalist|reporter|going viral|consumer rights|ombudsman"
)
ANGER = _phrases("unacceptable|terrible|worst|disgusting|furious|ridiculous|joke|scam")
PRAISE = _phrases("thanks|thank you|love|amazing|awesome|well done|best service")
SPAM_EARLY = _phrases("giveaway|follow back|follow for follow|dm for promo|free crypto")
SPAM_LATE = _phrases("check my bio|click my link|earn money fast|crypto signals")
_FILLER_TEXT = """
i my me the a an is was and but to it this that you your please help hi hello today yesterday
week just really why what when can someone item bought got need want know about for with from on
at have has been no yes so very also again any how long ago ordered last they we our us
there here now one two three after before could would should did does do get up out if or as
be all still more some tried told said call called email emailed chat team customer service
guys anyone seriously honestly literally another thing since monday friday weekend morning
"""
SPECIAL_WORDS = frozenset(
    w for phrase in (*LEGAL, *ANGER, *PRAISE) for w in phrase.split() if " " not in phrase
)
KEYWORDS = frozenset(p for _, vocab in TOPICS.values() for p in vocab if " " not in p)
FILLER = tuple(w for w in _FILLER_TEXT.split() if w not in KEYWORDS | SPECIAL_WORDS)

# `matches` patterns: realistic shapes, free of nested quantifiers (careflow rejects those), valid
# in both Python's re and Rust's regex (zen), and without double quotes.
REGEX_FAMILIES: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    (r"(?i)\bwhere is my (order|package|parcel)\b", {"category": "late_delivery"}, ()),
    (r"(?i)\border\s*#?\s*\d{5,}", {"privatize": "required"}, ("has-order-number",)),
    (r"#\d{5,}", {}, ("has-order-number",)),
    (r"\b[A-Z]{2}\d{6,9}\b", {"queue": "logistics"}, ("tracking-code",)),
    (r"(?i)\b\d+\s+(days|weeks)\b", {}, ("waiting-long",)),
    (r"!{2,}", {}, ("upset",)),
    (r"\b[A-Z]{4,}\b", {}, ("shouting",)),
    (r"(?i)\b(cancel|cancelled|canceled|cancelling)\b", {"category": "cancellation"}, ()),
    (r"(?i)https?://\S+", {}, ("has-link",)),
    (r"\?\s*$", {}, ("question",)),
    (r"(?i)\b(still|again)\s+(waiting|broken|charged)\b", {"priority": "high"}, ("repeat",)),
    (r"(?i)\b(never|not)\s+(again|buying|coming back)\b", {}, ("churn-risk",)),
)

# --------------------------------------------------------------------------- the pack as data


@dataclass(frozen=True)
class Test:
    """One careflow field test; the unit every implementation translates."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    """All items hold; ``mapping`` renders it as one YAML mapping (careflow's implicit 'and')."""

    items: tuple[Cond, ...]
    mapping: bool = False


@dataclass(frozen=True)
class AnyOf:
    """At least one item holds."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class NotOf:
    """The item does not hold."""

    item: Cond


Cond = Test | AllOf | AnyOf | NotOf


@dataclass(frozen=True)
class Rule:
    """A generated rule: rendered to YAML for careflow and to code for the baselines."""

    name: str
    when: Cond
    sets: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    drop: str | None = None
    stop: bool = False


class PackGenerator:
    """Draws rules from realistic families; remembers what earlier rules set, for later tests."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.categories: list[str] = []
        self.queues: list[str] = []
        self.tags: list[str] = []

    # ---- leaves

    def words(self, vocab: Sequence[str], low: int, high: int) -> list[str]:
        """A few distinct phrases of ``vocab`` for contains / contains_any."""
        return self.rng.sample(list(vocab), self.rng.randint(low, min(high, len(vocab))))

    def text_test(self) -> Test:
        """A keyword test from a topic or from the escalation vocabularies."""
        rng = self.rng
        pool = rng.choice([*(v for _, v in TOPICS.values()), ANGER, LEGAL, PRAISE])
        phrases = self.words(pool, 1, 4)
        if len(phrases) == 1:
            return Test("text", "contains", phrases[0])
        return Test("text", "contains_any", phrases)

    def reach_test(self) -> Test:
        """A followers threshold (heavy-tailed reach makes the high ones rare)."""
        rng = self.rng
        op = rng.choice(["gte", "gte", "gt", "lt", "lte"])
        if op in ("lt", "lte"):
            return Test("author.followers", op, rng.choice([10, 50, 100, 500]))
        return Test("author.followers", op, rng.choice([500, 1000, 5000, 10000, 50000, 250000]))

    def leaf(self, kind: str) -> Test:
        """One test of the given kind, using values set by earlier rules where it applies."""
        rng = self.rng
        if kind == "text":
            return self.text_test()
        if kind == "reach":
            return self.reach_test()
        if kind == "channel":
            op = rng.choice(["eq", "eq", "eq", "in", "ne"])
            if op == "in":
                return Test("channel", "in", rng.sample(["x", "facebook", "instagram"], 2))
            return Test("channel", op, rng.choice(["x", "facebook", "instagram"]))
        if kind == "kind":
            return Test("kind", "eq", rng.choice(["public", "public", "private"]))
        if kind == "verified":
            return Test("author.verified", "eq", True)
        if kind == "category" and self.categories:
            op = rng.choice(["eq", "eq", "eq", "in", "ne"])
            if op == "in" and len(self.categories) >= 2:
                return Test("category", "in", rng.sample(self.categories, 2))
            if op == "ne":
                return Test("category", "ne", "general")
            return Test("category", "eq", rng.choice(self.categories))
        if kind == "queue" and self.queues:
            return Test("queue", "eq", rng.choice(self.queues))
        if kind == "priority":
            choices = [("gte", "high"), ("lt", "urgent"), ("eq", "urgent"), ("lte", "normal")]
            op, value = rng.choice(choices)
            return Test("priority", op, value)
        if kind == "tags" and self.tags:
            if rng.random() < 0.3 and len(self.tags) >= 2:
                return Test("tags", "contains_any", rng.sample(self.tags, 2))
            return Test("tags", "contains", rng.choice(self.tags))
        if kind == "windows":
            return Test("windows", "eq", rng.choice(["standard", "urgent"]))
        return self.text_test()

    # ---- actions

    def actions(self, want: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """A ``set`` and/or ``tag`` fitting a family: triage (priority) or routing (queue)."""
        rng = self.rng
        sets: dict[str, str] = {}
        tags: list[str] = []
        if want == "priority":
            sets["priority"] = rng.choice(["high", "high", "urgent", "low"])
            if sets["priority"] == "urgent" and rng.random() < 0.7:
                sets["windows"] = "urgent"
            if rng.random() < 0.5:
                tags.append(rng.choice(["pr-risk", "vip", "escalated", "watch"]))
        elif want == "tag":
            tags.append(rng.choice(["angry", "praise", "legal", "watch", "social", "follow-up"]))
            if rng.random() < 0.3:
                sets["priority"] = rng.choice(["high", "low"])
        elif want == "route":
            sets["queue"] = rng.choice(["social", "escalations", "vip", "pr"])
            if rng.random() < 0.4:
                sets["privatize"] = rng.choice(["required", "offer", "never"])
        else:  # a bit of everything
            key = rng.choice(["priority", "windows", "privatize"])
            sets[key] = {
                "priority": rng.choice(["low", "normal", "high"]),
                "windows": "standard",
                "privatize": rng.choice(["required", "offer", "never"]),
            }[key]
            if rng.random() < 0.4:
                tags.append(rng.choice(["watch", "review", "follow-up"]))
        return self._remember(tuple(sets.items()), tuple(tags))

    def _remember(
        self, sets: tuple[tuple[str, str], ...], tags: tuple[str, ...]
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        for key, value in sets:
            if key == "category" and value not in self.categories:
                self.categories.append(value)
            if key == "queue" and value not in self.queues:
                self.queues.append(value)
        for tag in tags:
            if tag not in self.tags:
                self.tags.append(tag)
        return sets, tags

    # ---- families

    def drop_rule(self, name: str, index: int) -> Rule:
        """Firehose filter: spam words anywhere, or plain retweets on X."""
        variant = index % 3
        if variant == 0:
            when: Cond = Test("text", "contains_any", self.words(SPAM_EARLY, 4, 5))
            return Rule(name, when, drop="spam")
        if variant == 1:
            when = AllOf((Test("channel", "eq", "x"), Test("text", "matches", r"^RT @\w+:")), True)
            return Rule(name, when, drop="repost")
        words = Test("text", "contains_any", self.words(SPAM_EARLY, 2, 3))
        return Rule(name, AllOf((Test("kind", "eq", "public"), words), True), drop="spam")

    def late_drop_rule(self, name: str) -> Rule:
        """Spam that only counts as spam when no real topic was recognised."""
        when = AllOf(
            (Test("category", "eq", "general"), Test("text", "contains_any", list(SPAM_LATE))), True
        )
        return Rule(name, when, drop="spam")

    def keyword_rule(self, name: str) -> Rule:
        """Categorise by keywords: contains_any over 3-8 words/phrases of one topic."""
        rng = self.rng
        topic = rng.choices(list(TOPIC_WEIGHTS), weights=list(TOPIC_WEIGHTS.values()))[0]
        queue, vocab = TOPICS[topic]
        test = Test("text", "contains_any", self.words(vocab, 3, 8))
        sets = {"category": topic, "queue": queue}
        if topic in ("billing", "gift_cards", "account") and rng.random() < 0.6:
            sets["privatize"] = "required"
        tags = (topic.replace("_", "-"),) if rng.random() < 0.2 else ()
        when: Cond = test
        roll = rng.random()
        if roll < 0.15:
            when = AllOf((test, self.leaf("kind")), True)
        elif roll < 0.25:
            when = AllOf((self.leaf("channel"), test), True)
        return Rule(name, when, *self._remember(tuple(sets.items()), tags))

    def regex_rule(self, name: str) -> Rule:
        """A ``matches`` rule: order numbers, tracking codes, 'where is my ...', shouting."""
        pattern, sets, tags = self.rng.choice(REGEX_FAMILIES)
        when: Cond = Test("text", "matches", pattern)
        if self.rng.random() < 0.2:
            when = AllOf((when, self.leaf("kind")), True)
        return Rule(name, when, *self._remember(tuple(sets.items()), tags))

    def reach_rule(self, name: str) -> Rule:
        """PR risk by reach: thresholds, a band, or unknown reach."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            when: Cond = Test("author.followers", "exists", False)
            return Rule(name, when, *self._remember((), ("unknown-reach",)))
        if roll < 0.3:
            low = rng.choice([100, 500, 1000])
            when = AllOf(
                (Test("author.followers", "gt", low), Test("author.followers", "lt", low * 20)),
                True,
            )
            return Rule(name, when, *self._remember((), ("mid-reach",)))
        test = Test("author.followers", "gte", rng.choice([1000, 5000, 10000, 50000, 100000]))
        sets = {"priority": "urgent" if test.value >= 10000 else "high"}
        if test.value >= 10000:
            sets["windows"] = "urgent"
        tags = ("pr-risk",) if test.value >= 10000 else ("high-reach",)
        return Rule(name, test, *self._remember(tuple(sets.items()), tags))

    def channel_rule(self, name: str) -> Rule:
        """Channel / kind equality, usually narrowed by a second test."""
        rng = self.rng
        roll = rng.random()
        channel = Test("channel", "eq", rng.choice(["x", "facebook", "instagram"]))
        if roll < 0.25:
            when: Cond = AllOf((Test("kind", "eq", "private"), channel), True)
        elif roll < 0.6:
            when = AllOf((Test("kind", "eq", "private"), self.leaf("text")), True)
        else:
            reach = Test("author.followers", "gte", rng.choice([500, 1000, 5000, 10000]))
            when = AllOf((channel, reach), True)
        return Rule(name, when, *self.actions(rng.choice(["route", "tag", "misc"])))

    def verified_rule(self, name: str) -> Rule:
        """Verified authors get attention unless already urgent."""
        when: Cond = AllOf(
            (Test("author.verified", "eq", True), Test("priority", "lt", "urgent")), True
        )
        if self.rng.random() < 0.4:
            when = AllOf((Test("author.verified", "eq", True), self.leaf("channel")), True)
        return Rule(name, when, *self._remember((("priority", "high"),), ("verified",)))

    def selective(self, exclude: frozenset[str] = frozenset()) -> Test:
        """A test few inquiries pass (keywords, high reach, verified, a category, a tag), so that
        combinations stay as selective as real rules are."""
        rng = self.rng
        kinds = ["text", "text", "text", "reach", "verified", "category", "tags"]
        while True:
            kind = rng.choice(kinds)
            if kind == "reach":
                test = Test("author.followers", "gte", rng.choice([1000, 5000, 10000, 50000]))
            elif kind == "verified":
                test = Test("author.verified", "eq", True)
            elif kind == "category" and self.categories:
                test = Test("category", "eq", rng.choice(self.categories))
            elif kind == "tags" and self.tags:
                test = Test("tags", "contains", rng.choice(self.tags))
            else:
                test = self.text_test()
            if test.field not in exclude:
                return test

    def combo_rule(self, name: str) -> Rule:
        """all / any / not of 2-3 tests; at least one selective test carries each branch."""
        rng = self.rng
        kinds = ["text", "reach", "channel", "kind", "verified", "category", "priority"]
        a = self.selective()
        b = self.leaf(rng.choice(kinds))
        if b.field == a.field:
            b = self.leaf("channel" if a.field != "channel" else "kind")
        c = self.selective(frozenset({a.field, b.field}))
        shape = rng.randrange(6)
        when: Cond
        if shape == 0:
            when = AllOf((a, b))
        elif shape == 1:
            when = AnyOf((a, c))
        elif shape == 2:
            when = AllOf((a, NotOf(b)))
        elif shape == 3:
            when = AllOf((b, AnyOf((a, c))), True)
        elif shape == 4:
            when = AllOf((a, NotOf(b)), True)
        else:
            when = AnyOf((AllOf((a, b)), c))
        return Rule(name, when, *self.actions(rng.choice(["priority", "tag", "route", "misc"])))

    def derived_rule(self, name: str) -> Rule:
        """Tests on values set by earlier rules, e.g. {category: billing, followers >= 1000}."""
        rng = self.rng
        first = self.leaf(rng.choice(["category", "category", "queue", "priority", "tags"]))
        # "anything categorised" or "not urgent yet" is too broad for a derived rule
        while first.op in ("ne", "lt", "lte"):
            first = self.leaf(rng.choice(["category", "queue"]))
        second = self.leaf(rng.choice(["reach", "kind", "channel", "text", "verified", "windows"]))
        if second.field == first.field:
            second = self.leaf("reach")
        when: Cond = AllOf((first, second), True)
        return Rule(name, when, *self.actions(rng.choice(["priority", "route", "tag", "misc"])))

    def tag_rule(self, name: str) -> Rule:
        """Mood and risk tags from keyword lists."""
        rng = self.rng
        pool, tag = rng.choice([(ANGER, "angry"), (PRAISE, "praise"), (LEGAL, "legal")])
        test = Test("text", "contains_any", self.words(pool, 3, 6))
        sets: tuple[tuple[str, str], ...] = ()
        if tag == "legal":
            sets = (("priority", "urgent"), ("windows", "urgent"))
        elif tag == "praise" and rng.random() < 0.5:
            sets = (("priority", "low"),)
        return Rule(name, test, *self._remember(sets, (tag,)))

    def stop_rule(self, name: str, index: int) -> Rule:
        """Hand-off rules after which nothing else should change the decision."""
        if index % 2 == 0:
            when: Cond = AllOf(
                (
                    Test("text", "contains_any", self.words(LEGAL, 3, 6)),
                    Test("author.followers", "gte", 1000),
                ),
                True,
            )
            sets = (("priority", "urgent"), ("windows", "urgent"), ("queue", "pr"))
            return Rule(name, when, *self._remember(sets, ("legal-escalation",)), stop=True)
        when = AllOf(
            (
                Test("priority", "eq", "urgent"),
                Test("tags", "contains_any", ["pr-risk", "legal"]),
            ),
            True,
        )
        return Rule(name, when, *self._remember((("queue", "escalations"),), ()), stop=True)

    def generate(self, count: int) -> list[Rule]:
        """``count`` rules in a realistic order: filters, categories, triage, hand-offs."""
        rng = self.rng
        drops = max(1, round(count * 0.03))
        stops = {int(count * 0.85), int(count * 0.95)} - set(range(drops))
        late_drop = int(count * 0.6) if count >= 10 else -1
        classify = (["keyword", "regex", "channel"], [60, 22, 18])
        triage = (["reach", "verified", "combo", "derived", "tag"], [15, 6, 27, 35, 17])
        mixed = (["keyword", "regex", "combo", "derived", "tag"], [30, 10, 20, 30, 10])
        rules: list[Rule] = []
        n_stop = 0
        for i in range(count):
            if i < drops:
                family = "drop"
            elif i in stops:
                family = "stop"
            elif i == late_drop:
                family = "late-drop"
            else:
                families, weights = (
                    classify if i < count * 0.45 else triage if i < count * 0.85 else mixed
                )
                family = rng.choices(families, weights=weights)[0]
            name = f"{family}-{i + 1:03d}"
            if family == "drop":
                rules.append(self.drop_rule(name, i))
            elif family == "late-drop":
                rules.append(self.late_drop_rule(name))
            elif family == "stop":
                rules.append(self.stop_rule(name, n_stop))
                n_stop += 1
            else:
                rules.append(getattr(self, f"{family}_rule")(name))
        return rules


# --------------------------------------------------------------------------- YAML for careflow

_BARE = re.compile(r"[a-z][a-z0-9_.-]*")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def yaml_scalar(value: Any) -> str:
    """A YAML 1.2 scalar: bare where unambiguous, else JSON (valid YAML double-quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_scalar(v) for v in value) + "]"
    text = str(value)
    if _BARE.fullmatch(text) and text not in _YAML_WORDS:
        return text
    return json.dumps(text)


def yaml_entries(cond: Cond) -> list[str]:
    """The ``key: value`` entries of the mapping that expresses ``cond``."""
    if isinstance(cond, Test):
        if cond.op == "eq" and cond.field != "tags":
            return [f"{cond.field}: {yaml_scalar(cond.value)}"]
        return [f"{cond.field}: {{{cond.op}: {yaml_scalar(cond.value)}}}"]
    if isinstance(cond, NotOf):
        return [f"not: {yaml_condition(cond.item)}"]
    if isinstance(cond, AnyOf):
        return ["any: [" + ", ".join(yaml_condition(i) for i in cond.items) + "]"]
    if not cond.mapping:
        return ["all: [" + ", ".join(yaml_condition(i) for i in cond.items) + "]"]
    # One mapping: tests on the same field merge into one operator mapping.
    by_field: dict[str, dict[str, Any]] = {}
    entries: list[str] = []
    for item in cond.items:
        if isinstance(item, Test):
            if item.field not in by_field:
                by_field[item.field] = {}
                entries.append(item.field)
            if item.op in by_field[item.field]:
                raise ValueError(f"generator bug: repeated {item.field} {item.op}")
            by_field[item.field][item.op] = item.value
        else:
            entries.extend(yaml_entries(item))
    out: list[str] = []
    for entry in entries:
        ops = by_field.get(entry)
        if ops is None:
            out.append(entry)
        elif list(ops) == ["eq"] and entry != "tags":
            out.append(f"{entry}: {yaml_scalar(ops['eq'])}")
        else:
            inner = ", ".join(f"{op}: {yaml_scalar(v)}" for op, v in ops.items())
            out.append(f"{entry}: {{{inner}}}")
    keys = [e.split(":", 1)[0] for e in out]
    if len(keys) != len(set(keys)):
        raise ValueError(f"generator bug: duplicate keys {keys}")
    return out


def yaml_condition(cond: Cond) -> str:
    """``cond`` as a YAML flow mapping."""
    return "{" + ", ".join(yaml_entries(cond)) + "}"


def pack_yaml(rules: Sequence[Rule], seed: int) -> str:
    """The whole rule file: a valid header and the generated rules, all on ``received``."""
    lines = [
        "# yaml-language-server: $schema=../schemas/rules.schema.json",
        f"# Generated by bench/rules_bench.py (seed {seed}); regenerate rather than edit.",
        "version: 1",
        "name: bench-pack",
        f"description: Synthetic {len(rules)}-rule pack for the evaluation benchmark.",
        "windows:",
        "  standard:",
        "    acknowledge: {internal: 30m, published: 1h, warn_before: 10m}",
        "    resolve: {internal: 4h, published: 24h}",
        "  urgent:",
        "    acknowledge: {internal: 10m, published: 30m}",
        "    resolve: {internal: 2h, published: 8h}",
        "defaults: {category: general, priority: normal, queue: general, windows: standard,"
        " privatize: never}",
        "templates:",
        '  follow_up: "Hi {{ author.name }}, is everything sorted now? Reply here if not."',
        '  dm_invite: "Could you send us a DM with your order number? Please don\'t post it here."',
        "rules:",
    ]
    for rule in rules:
        lines.append(f"  - name: {rule.name}")
        lines.append(f"    on: {EVENT}")
        lines.append(f"    when: {yaml_condition(rule.when)}")
        actions: list[str] = []
        if rule.drop is not None:
            actions.append(f"{{drop: {yaml_scalar(rule.drop)}}}")
        if rule.sets:
            inner = ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in rule.sets)
            actions.append(f"{{set: {{{inner}}}}}")
        if rule.tags:
            tags = rule.tags[0] if len(rule.tags) == 1 else list(rule.tags)
            actions.append(f"{{tag: {yaml_scalar(tags)}}}")
        lines.append(f"    do: [{', '.join(actions)}]")
        if rule.stop:
            lines.append("    stop: true")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- translations

_PHRASE = re.compile(r"[a-z0-9][a-z0-9' -]*[a-z0-9]|[a-z0-9]")


def phrase_alternation(phrases: Sequence[str]) -> str:
    """``a|b\\s+c`` for whole-word phrases (the vocabulary needs no escaping; checked here)."""
    for phrase in phrases:
        if not _PHRASE.fullmatch(phrase):
            raise ValueError(f"generator bug: phrase {phrase!r} needs escaping")
    return "|".join(r"\s+".join(p.split()) for p in phrases)


def python_word_regex(phrases: Sequence[str]) -> str:
    r"""Whole words, as a programmer writes it; equals careflow's (?<!\w)...(?!\w) here."""
    return r"\b(?:" + phrase_alternation(phrases) + r")\b"


def phrases_of(test: Test) -> list[str]:
    """The phrases of a contains / contains_any test."""
    return [test.value] if test.op == "contains" else list(test.value)


def priorities_where(op: str, value: str) -> tuple[str, ...]:
    """The priorities for which ``priority <op> value`` holds (priority is an ordered choice)."""
    rank = PRIORITIES.index(value)
    check: dict[str, Callable[[int], bool]] = {
        "gt": lambda r: r > rank,
        "gte": lambda r: r >= rank,
        "lt": lambda r: r < rank,
        "lte": lambda r: r <= rank,
        "eq": lambda r: r == rank,
        "ne": lambda r: r != rank,
    }
    return tuple(p for i, p in enumerate(PRIORITIES) if check[op](i))


_PY_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class PythonSource:
    """Hand-written-style Python: one ``if`` per rule, regexes compiled once as module globals."""

    def __init__(self) -> None:
        self.regexes: list[tuple[str, int]] = []

    def regex(self, pattern: str, flags: int) -> str:
        """The global name bound to ``re.compile(pattern, flags).search``."""
        key = (pattern, flags)
        if key not in self.regexes:
            self.regexes.append(key)
        return f"_rx{self.regexes.index(key)}"

    def test(self, t: Test) -> str:
        """One test as a Python expression over local variables."""
        var = FIELD_VARS[t.field]
        if t.field == "text":
            if t.op == "matches":
                return f"{self.regex(t.value, 0)}({var})"
            if t.op in ("contains", "contains_any"):
                return f"{self.regex(python_word_regex(phrases_of(t)), re.IGNORECASE)}({var})"
        if t.field == "tags":
            return " or ".join(f"{tag!r} in tags" for tag in phrases_of(t))
        if t.op == "exists":
            return f"{var} is {'not ' if t.value else ''}None"
        if t.field == "priority":
            if t.op in ("in", "not_in"):
                return f"{var} {'not in' if t.op == 'not_in' else 'in'} {tuple(t.value)!r}"
            allowed = priorities_where(t.op, t.value)
            return f"{var} == {allowed[0]!r}" if len(allowed) == 1 else f"{var} in {allowed!r}"
        if t.field == "author.verified":
            return var if (t.op == "eq") == t.value else f"not {var}"
        if t.field == "author.followers":
            if t.op == "ne":
                return f"({var} is None or {var} != {t.value!r})"
            if t.op == "not_in":
                return f"({var} is None or {var} not in {tuple(t.value)!r})"
            if t.op == "in":
                return f"{var} in {tuple(t.value)!r}"
            return f"{var} is not None and {var} {_PY_COMPARE[t.op]} {t.value!r}"
        # Text and choice fields: every value in this benchmark is lowercase (channels are by
        # validation; categories, queues and windows come from the pack), so == is careflow's
        # case-insensitive comparison.
        if t.op == "in":
            return f"{var} in {tuple(t.value)!r}"
        if t.op == "not_in":
            return f"{var} not in {tuple(t.value)!r}"
        return f"{var} {_PY_COMPARE[t.op]} {t.value!r}"

    def cond(self, c: Cond, top: bool = False) -> str:
        """A condition tree as a Python expression, parenthesised only where precedence needs."""
        if isinstance(c, Test):
            text = self.test(c)
            compound = " and " in text or " or " in text
            return f"({text})" if compound and not top else text
        if isinstance(c, NotOf):
            inner = self.cond(c.item)
            if " " in inner and not inner.startswith("("):
                inner = f"({inner})"
            return f"not {inner}" if top else f"(not {inner})"
        joiner = " and " if isinstance(c, AllOf) else " or "
        text = joiner.join(self.cond(i) for i in c.items)
        return text if top else f"({text})"

    def function(self, rules: Sequence[Rule]) -> str:
        """The whole ``evaluate(inquiry)`` function, straight-line ``if`` statements."""
        values = ", ".join(VALUE_KEYS)
        lines = [
            "def evaluate(inquiry):",
            "    text = inquiry.text",
            "    channel = inquiry.channel",
            "    kind = inquiry.kind",
            "    author = inquiry.author",
            "    author_followers = author.followers",
            "    author_verified = author.verified",
            *(f"    {key} = {DEFAULTS[key]!r}" for key in VALUE_KEYS),
            "    tags = []",
            "    fired = []",
        ]
        for rule in rules:
            lines.append(f"    if {self.cond(rule.when, top=True)}:")
            lines.append(f"        fired.append({rule.name!r})")
            if rule.drop is not None:
                lines.append(
                    f"        return (True, {rule.drop!r}, {values}, tuple(tags), tuple(fired))"
                )
                continue
            lines.extend(f"        {key} = {value!r}" for key, value in rule.sets)
            for tag in rule.tags:
                lines.append(f"        if {tag!r} not in tags:")
                lines.append(f"            tags.append({tag!r})")
            if rule.stop:
                lines.append(f"        return (False, None, {values}, tuple(tags), tuple(fired))")
        lines.append(f"    return (False, None, {values}, tuple(tags), tuple(fired))")
        header = [
            f"_rx{i} = re.compile({pattern!r}{', re.IGNORECASE' if flags else ''}).search"
            for i, (pattern, flags) in enumerate(self.regexes)
        ]
        return "\n".join(["import re", "", *header, "", "", *lines]) + "\n"


def hand_written(rules: Sequence[Rule]) -> tuple[Callable[[Inquiry], Outcome], str]:
    """Compile the generated hand-written module once; return its ``evaluate`` and source."""
    source = PythonSource().function(rules)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<hand-written rules>", "exec"), namespace)
    evaluate: Callable[[Inquiry], Outcome] = namespace["evaluate"]
    return evaluate, source


def string_literal(text: str) -> str:
    """A double-quoted rule-engine string literal (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Sequence[Any]) -> str:
    """An array literal in rule-engine / zen syntax."""
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


class ExpressionSource:
    """rule-engine or zen expression text for a condition (their syntax is close)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def text_search(self, t: Test) -> str:
        if self.dialect == "rule-engine":
            # =~~ is re.search (=~ would be re.match, anchored at the start).
            if t.op == "matches":
                return f"text =~~ {string_literal(t.value)}"
            return f"text =~~ {string_literal('(?i)' + python_word_regex(phrases_of(t)))}"
        # zen: Rust regex, no look-around, string literals are not unescaped. \b equals careflow's
        # (?<!\w)...(?!\w) because every phrase starts and ends with a word character; lower()
        # plus a lowercase pattern equals IGNORECASE on this ASCII vocabulary and compiles faster.
        if t.op == "matches":
            pattern, subject = t.value, "text"
        else:
            pattern, subject = rf"\b(?:{phrase_alternation(phrases_of(t))})\b", "lower(text)"
        if '"' in pattern:
            raise ValueError(f"generator bug: zen pattern with a double quote: {pattern!r}")
        return f'matches({subject}, "{pattern}")'

    def test(self, t: Test) -> str:
        """One test; numbers are guarded against null (both libraries raise on null >= 1)."""
        var = FIELD_VARS[t.field]
        if t.field == "text" and t.op in ("matches", "contains", "contains_any"):
            return self.text_search(t)
        if t.field == "tags":
            return " or ".join(f"{json.dumps(tag)} in tags" for tag in phrases_of(t))
        if t.op == "exists":
            return f"{var} {'!=' if t.value else '=='} null"
        if t.field == "priority" and t.op not in ("in", "not_in"):
            return f"{var} in {array_literal(priorities_where(t.op, t.value))}"
        if t.field == "author.verified":
            return f"{var} {'==' if t.op == 'eq' else '!='} {'true' if t.value else 'false'}"
        if t.op == "in":
            guard = f"{var} != null and " if t.field == "author.followers" else ""
            return f"{guard}{var} in {array_literal(t.value)}"
        if t.op == "not_in":
            guard = f"{var} == null or " if t.field == "author.followers" else ""
            return f"{guard}not ({var} in {array_literal(t.value)})"
        literal = json.dumps(t.value)
        if t.field == "author.followers":
            if t.op == "ne":
                return f"{var} == null or {var} != {literal}"
            return f"{var} != null and {var} {_PY_COMPARE[t.op]} {literal}"
        return f"{var} {_PY_COMPARE[t.op]} {literal}"

    def cond(self, c: Cond) -> str:
        """A condition tree as one parenthesised expression."""
        if isinstance(c, Test):
            return f"({self.test(c)})"
        if isinstance(c, NotOf):
            return f"(not {self.cond(c.item)})"
        joiner = " and " if isinstance(c, AllOf) else " or "
        return "(" + joiner.join(self.cond(i) for i in c.items) + ")"


# --------------------------------------------------------------------------- the loop engines


@dataclass(frozen=True)
class Step:
    """A compiled rule for the library baselines: the library decides, the loop acts."""

    name: str
    matches: Callable[[dict[str, Any]], Any]
    updates: dict[str, str]
    tags: tuple[str, ...]
    drop: str | None
    stop: bool


def flat_context(inquiry: Inquiry) -> dict[str, Any]:
    """The per-inquiry mapping the libraries read: careflow's fields, dots made underscores."""
    author = inquiry.author
    return {
        "text": inquiry.text,
        "channel": inquiry.channel,
        "kind": inquiry.kind,
        "author_followers": author.followers,
        "author_verified": author.verified,
        **DEFAULTS,
        "tags": [],
    }


def loop_evaluator(steps: Sequence[Step]) -> Callable[[Inquiry], Outcome]:
    """careflow's semantics around a library's condition test: file order, set/tag at once,
    later conditions see updated values, drop and stop end evaluation."""
    frozen = tuple(steps)

    def evaluate(inquiry: Inquiry) -> Outcome:
        ctx = flat_context(inquiry)
        tags: list[str] = []
        fired: list[str] = []
        drop: str | None = None
        for step in frozen:
            if not step.matches(ctx):
                continue
            fired.append(step.name)
            if step.drop is not None:
                drop = step.drop
                break
            if step.updates:
                ctx.update(step.updates)
            if step.tags:
                tags.extend(t for t in step.tags if t not in tags)
                ctx["tags"] = list(tags)
            if step.stop:
                break
        return (
            drop is not None,
            drop,
            ctx["category"],
            ctx["priority"],
            ctx["queue"],
            ctx["windows"],
            ctx["privatize"],
            tuple(tags),
            tuple(fired),
        )

    return evaluate


def library_steps(rules: Sequence[Rule], dialect: str) -> list[Step]:
    """Compile each rule's condition once with rule-engine or zen."""
    source = ExpressionSource(dialect)
    steps: list[Step] = []
    for rule in rules:
        text = source.cond(rule.when)
        if dialect == "rule-engine":
            matches = rule_engine.Rule(text).matches
        else:
            matches = zen.compile_expression(text).evaluate
        steps.append(Step(rule.name, matches, dict(rule.sets), rule.tags, rule.drop, rule.stop))
    return steps


def careflow_outcome(decision: Decision) -> Outcome:
    """A careflow Decision reduced to what the baselines also compute."""
    v = decision.values
    return (
        decision.dropped,
        decision.drop_reason,
        v.category,
        v.priority,
        v.queue,
        v.windows,
        v.privatize,
        v.tags,
        tuple(decision.fired),
    )


# --------------------------------------------------------------------------- inquiries


def styled(rng: random.Random, phrase: str) -> str:
    """Customers' casing: mostly lowercase, sometimes Capitalised or SHOUTED."""
    roll = rng.random()
    if roll < 0.10:
        return phrase.capitalize()
    if roll < 0.16:
        return phrase.upper()
    return phrase


def make_text(rng: random.Random, handle: str, channel: str) -> str:
    """5-40 words of filler with topic phrases, escalation words, numbers and spam mixed in."""
    inserts: list[str] = []
    topics = rng.choices(list(TOPIC_WEIGHTS), weights=list(TOPIC_WEIGHTS.values()), k=3)
    for topic in topics[: rng.choices([0, 1, 2, 3], weights=[22, 48, 24, 6])[0]]:
        inserts.append(rng.choice(TOPICS[topic][1]))
    extras: tuple[tuple[float, Callable[[], str]], ...] = (
        (0.045, lambda: rng.choice(SPAM_EARLY)),
        (0.015, lambda: rng.choice(SPAM_LATE)),
        (0.04, lambda: rng.choice(LEGAL)),
        (0.10, lambda: rng.choice(ANGER)),
        (0.08, lambda: rng.choice(PRAISE)),
        (0.05, lambda: f"order #{rng.randint(10000, 9999999)}"),
        (0.03, lambda: f"#{rng.randint(10000, 999999)}"),
        (0.03, lambda: f"{rng.choice(['AB', 'ZX', 'QT'])}{rng.randint(100000, 99999999)}"),
        (0.02, lambda: f"https://acme.example/o/{rng.randint(1, 99999)}"),
        (0.05, lambda: f"{rng.randint(2, 14)} {rng.choice(['days', 'weeks'])}"),
        (0.03, lambda: f"{rng.choice(['still', 'again'])} {rng.choice(['waiting', 'broken'])}"),
        (0.02, lambda: f"{rng.choice(['never', 'not'])} {rng.choice(['again', 'buying'])}"),
        (0.02, lambda: rng.choice(["cancel", "cancelled", "cancelling"])),
        (0.02, lambda: f"where is my {rng.choice(['package', 'parcel'])}"),
    )
    for probability, make in extras:
        if rng.random() < probability:
            inserts.append(make())
    inserted_words = sum(len(p.split()) for p in inserts)
    # 5-40 words, skewed short as social posts are (median ~14 words).
    count = max(2, 5 + int(36 * rng.random() ** 2) - inserted_words)
    words = [rng.choice(FILLER) for _ in range(count)]
    for i, word in enumerate(words):
        if rng.random() < 0.05:
            words[i] = word + ","
    for phrase in inserts:
        words.insert(rng.randint(0, len(words)), styled(rng, phrase))
    words[0] = words[0][:1].upper() + words[0][1:]
    endings = [".", "", "!", "?", "!!", "!!!", " ?"]
    text = " ".join(words) + rng.choices(endings, weights=[35, 25, 15, 12, 6, 3, 4])[0]
    if channel == "x" and rng.random() < 0.02:
        text = f"RT @{handle}_fan: {text}"
    return text


def make_inquiries(count: int, seed: int) -> list[Inquiry]:
    """Deterministic inquiries: channel/kind mix, heavy-tailed reach, some unknown reach."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    inquiries: list[Inquiry] = []
    for i in range(count):
        channel = rng.choices(["x", "facebook", "instagram"], weights=[45, 30, 25])[0]
        kind = "public" if rng.random() < 0.7 else "private"
        followers: int | None = None
        if rng.random() >= 0.08:  # Pareto tail: median ~35, ~5% above 1000, ~0.8% above 10000
            followers = min(50_000_000, int(25 * rng.paretovariate(0.8)) - 25)
        verified = rng.random() < (0.3 if followers is not None and followers > 50_000 else 0.02)
        handle = f"user{i}"
        author = Author(
            id=f"a{i}",
            handle=handle,
            name=f"User {i}" if rng.random() < 0.8 else None,
            followers=followers,
            verified=verified,
        )
        inquiries.append(
            Inquiry(
                id=f"p{i}",
                channel=channel,
                kind=kind,
                conversation_id=f"c{i}",
                author=author,
                text=make_text(rng, handle, channel),
                created_at=start + timedelta(seconds=17 * i),
                url=f"https://{channel}.example/p/{i}",
            )
        )
    return inquiries


# --------------------------------------------------------------------------- timing


def timed_run(evaluate: Evaluator, inquiries: Sequence[Inquiry]) -> float:
    """Seconds to evaluate every inquiry once; GC paused as timeit does, to cut noise."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for inquiry in inquiries:
            evaluate(inquiry)
        return time.perf_counter() - start
    finally:
        gc.enable()


def check_agreement(
    engines: dict[str, Evaluator], inquiries: Sequence[Inquiry]
) -> tuple[dict[str, list[Outcome]], dict[str, float]]:
    """Every engine's outcomes on the sample, and its seconds per inquiry (to size prefixes)."""
    outcomes: dict[str, list[Outcome]] = {}
    per_inquiry: dict[str, float] = {}
    for name, evaluate in engines.items():
        gc.collect()
        gc.disable()  # as in timed_run, so the speed estimate matches the timed runs
        try:
            start = time.perf_counter()
            results = [evaluate(inquiry) for inquiry in inquiries]
            per_inquiry[name] = (time.perf_counter() - start) / max(1, len(inquiries))
        finally:
            gc.enable()
        if name in ("careflow", NO_WHY):
            results = [careflow_outcome(d) for d in results]
        outcomes[name] = results
    reference = outcomes["careflow"]
    for name, results in outcomes.items():
        for index, (want, got) in enumerate(zip(reference, results, strict=True)):
            if want != got:
                raise AssertionError(
                    f"{name} disagrees with careflow on inquiry {index} "
                    f"({inquiries[index].text!r}):\n  careflow: {want}\n  {name}: {got}"
                )
    return outcomes, per_inquiry


NO_WHY = "careflow-no-why"  # like for like: the baselines compute no explanations either
FAST = ("careflow", NO_WHY, "hand-written")  # timed over every inquiry unless --cap says so


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; --quick is a smoke run, the defaults are the real benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--inquiries", type=int, default=100_000, help="inquiries to time")
    parser.add_argument("--rules", type=int, default=100, help="rules in the generated pack")
    parser.add_argument("--quick", action="store_true", help="10,000 inquiries, 1 repeat (smoke)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--check", type=int, default=2000, help="inquiries in the agreement check")
    parser.add_argument("--seed", type=int, default=2026, help="seed for pack and inquiries")
    parser.add_argument(
        "--budget",
        type=float,
        default=5.0,
        help="seconds per repeat for rule-engine and zen-engine (sizes their prefix)",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=11.0,
        help="at most this many seconds per repeat for careflow and hand-written: a slower "
        "full pass times the largest prefix that fits (keeps a default run under 3 minutes); "
        "0 times every inquiry",
    )
    parser.add_argument("--show-pack", action="store_true", help="print the generated rule file")
    parser.add_argument("--show-code", action="store_true", help="print the hand-written code")
    args = parser.parse_args(argv)
    if args.quick:
        args.inquiries, args.repeats, args.budget = 10_000, 1, 2.0
    return args


def code_excerpt(source: str, regexes: int = 5, body: int = 24) -> str:
    """About 30 lines of the generated module: a few regexes, then the start of ``evaluate``."""
    lines = source.splitlines()
    compiled = [line for line in lines if line.startswith("_rx")]
    start = lines.index("def evaluate(inquiry):")
    rest = len(lines) - start - body
    return "\n".join(
        [
            "import re",
            *compiled[:regexes],
            f"# ... {len(compiled) - regexes} more compiled regexes",
            "",
            *lines[start : start + body],
            f"    # ... {rest} more lines",
        ]
    )


def prefix_sizes(
    per_inquiry: dict[str, float], total: int, budget: float, cap: float
) -> dict[str, int]:
    """How many inquiries each engine evaluates per repeat, from its speed in the check."""
    sizes: dict[str, int] = {}
    for name, seconds in per_inquiry.items():
        if name in FAST:
            fits = total if cap <= 0 else int(cap / max(seconds, 1e-9))
            sizes[name] = max(min(1000, total), min(total, fits))
        else:
            sizes[name] = max(min(100, total), min(total, int(budget / max(seconds, 1e-9))))
    return sizes


def report(
    rates: dict[str, float], sizes: dict[str, int], total: int, per_inquiry: dict[str, float]
) -> None:
    """The table of evaluations per second, ratios to careflow, and the project's aims."""
    base = rates["careflow"]
    print(f"{'engine':<16}{'inquiries':>11}{'evals/s':>12}{'us/eval':>10}   ratio")
    for name, rate in rates.items():
        if name == "careflow":
            ratio = "1.00x (reference)"
        elif rate >= base:
            ratio = f"{name} {rate / base:.2f}x careflow"
        else:
            ratio = f"careflow {base / rate:.1f}x {name}"
        print(f"{name:<16}{sizes[name]:>11,}{rate:>12,.0f}{1e6 / rate:>10.1f}   {ratio}")
    for name in FAST:
        if sizes[name] < total:
            print(
                f"note: {name} timed on the first {sizes[name]:,} of {total:,} inquiries per "
                f"repeat: a full pass would take ~{per_inquiry[name] * total:.0f} s, over --cap"
            )
    print()
    for name in ("careflow", NO_WHY):
        hand = rates["hand-written"] / rates[name]
        library = rates[name] / rates["rule-engine"]
        within = f"{hand:.2f}x slower" if hand >= 1 else f"{1 / hand:.1f}x faster"
        print(f"aim: {name} within 2x of hand-written Python: {within} -> " + _met(hand <= 2))
        print(
            f"aim: {name} at least 30x faster than rule-engine: {library:.1f}x -> "
            + _met(library >= 30)
        )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, check, verify agreement, time, report."""
    args = parse_args(argv)
    began = time.perf_counter()

    rules = PackGenerator(args.seed).generate(args.rules)
    text = pack_yaml(rules, args.seed)
    if args.show_pack:
        print(f"=== generated pack {PACK_FILE} ({len(rules)} rules) ===")
        print(text, end="")
        print("=== end of pack ===\n")
    try:
        ruleset = ruleset_from_text(text, PACK_FILE)
    except RuleFileError as error:
        print("generator bug: the pack fails `careflow rules check`:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"careflow accepted the pack (sha256 {ruleset.digest[:12]})")

    hand, source = hand_written(rules)
    if args.show_code:
        print("\n=== hand-written Python (excerpt) ===")
        print(code_excerpt(source))
        print("=== end of excerpt ===\n")

    start = time.perf_counter()
    inquiries = make_inquiries(max(args.inquiries, args.check), args.seed + 1)
    print(f"generated {len(inquiries):,} inquiries in {time.perf_counter() - start:.1f} s")

    engines: dict[str, Evaluator] = {
        "careflow": functools.partial(ruleset.evaluate, EVENT),
        NO_WHY: functools.partial(ruleset.evaluate, EVENT, explain=False),
        "hand-written": hand,
        "rule-engine": loop_evaluator(library_steps(rules, "rule-engine")),
        "zen-engine": loop_evaluator(library_steps(rules, "zen")),
    }
    print(
        "careflow: Ruleset.evaluate -> Decision (with why and actions); careflow-no-why: the "
        "same with explain=False (what the baselines compute); hand-written: "
        f"{source.count(chr(10))} lines of generated straight-line Python; rule-engine "
        f"{version('rule-engine')}: one Rule per rule (=~~ is re.search); zen-engine "
        f"{version('zen-engine')}: one compile_expression per rule (matches() is Rust regex); "
        "both libraries run inside the same Python loop for set/tag/drop/stop"
    )

    sample = inquiries[: args.check]
    outcomes, per_inquiry = check_agreement(engines, sample)
    reference = outcomes["careflow"]
    fired = sum(len(o[8]) for o in reference) / len(reference)
    dropped = sum(o[0] for o in reference) / len(reference)
    stop_rules = {rule.name for rule in rules if rule.stop}
    stopped = sum(1 for o in reference if o[8] and o[8][-1] in stop_rules)
    print(
        f"agreement: {len(sample):,}/{len(sample):,} inquiries identical (fired lists, drop, "
        f"category, priority, queue, windows, privatize, tags) across {', '.join(engines)}"
    )
    print(
        f"pack profile on that sample: {fired:.2f} rules fired per inquiry, "
        f"{dropped:.1%} dropped, {stopped / len(reference):.1%} ended by stop: true"
    )

    timed = inquiries[: args.inquiries]
    sizes = prefix_sizes(per_inquiry, len(timed), args.budget, args.cap)
    best: dict[str, float] = dict.fromkeys(engines, float("inf"))
    names = list(engines)
    for repeat in range(args.repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            seconds = timed_run(engines[name], timed[: sizes[name]])
            best[name] = min(best[name], seconds / sizes[name])
        print(f"repeat {repeat + 1}/{args.repeats} done ({time.perf_counter() - began:.0f} s)")

    print(
        f"\n{len(rules)} rules on '{EVENT}', best of {args.repeats} interleaved repeat(s), "
        "time.perf_counter, GC paused during runs"
    )
    report({name: 1.0 / best[name] for name in engines}, sizes, len(timed), per_inquiry)
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
