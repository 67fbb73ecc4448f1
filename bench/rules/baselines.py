"""The baselines: the pack as hand-written Python and as rule-engine / zen-engine expressions.

Why here: each baseline must reach careflow's exact decisions, so the translations and the loop
that gives the libraries careflow's semantics (order, set/tag, drop, stop) live side by side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import rule_engine
import zen

from bench.rules.pack import DEFAULTS, PRIORITIES, VALUE_KEYS, AllOf, Cond, NotOf, Rule, Test
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Decision

# (dropped, drop_reason, category, priority, queue, windows, privatize, tags, fired)
Outcome = tuple[bool, str | None, str, str, str, str, str, tuple[str, ...], tuple[str, ...]]

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
