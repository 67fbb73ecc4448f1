"""The generated pack: rules as data, drawn by ``PackGenerator``, rendered by the other modules.

Why data first: every implementation (careflow's YAML, the baselines' code) is translated from the
same ``Rule`` objects, so they cannot drift apart.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.rules.vocabulary import (
    ANGER,
    LEGAL,
    PRAISE,
    REGEX_FAMILIES,
    SPAM_EARLY,
    SPAM_LATE,
    TOPIC_WEIGHTS,
    TOPICS,
)

# careflow's priority order, and the pack's defaults (its YAML's ``defaults:``): the baselines
# start every inquiry from these values.
PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULTS = {
    "category": "general",
    "priority": "normal",
    "queue": "general",
    "windows": "standard",
    "privatize": "never",
}
VALUE_KEYS = ("category", "priority", "queue", "windows", "privatize")


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
