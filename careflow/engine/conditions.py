"""The condition language: parse a ``when:`` mapping, compile it once into closures, explain a match.

``{field: value}`` is short for ``{field: {eq: value}}``; several keys in one mapping must all hold;
``all`` / ``any`` / ``not`` combine conditions. Evaluation never raises: a missing field is simply
not equal to anything (so ``ne`` and ``not_in`` hold, every other operator fails).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from careflow.engine.fields import FIELDS, LOGIC_KEYS, ORDER_OPERATORS, FieldSpec, FieldType
from careflow.engine.safe_regex import fold, required_literals
from careflow.engine.suggest import did_you_mean

Path = tuple[str | int, ...]
Context = MutableMapping[str, Any]  # conditions may cache derived values (a text's words) in it
Predicate = Callable[[Context], bool]


class ConditionError(ValueError):
    """A structurally invalid condition; ``path`` is relative to the ``when:`` mapping."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class FieldTest:
    """One comparison of a field with a literal, e.g. ``author.followers >= 10000``."""

    field: str
    operator: str
    value: Any
    path: Path


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = FieldTest | AllOf | AnyOf | Not


# --------------------------------------------------------------------------- parsing


def parse_condition(raw: Any, path: Path = ()) -> Condition:
    """Turn a ``when:`` mapping into a condition tree, or raise ConditionError at the bad node."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionError(path, "a condition must be a non-empty mapping of fields to tests")
    items: list[Condition] = []
    for key, value in raw.items():
        here = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionError(here, f"'{key}' takes a non-empty list of conditions")
            parts = tuple(parse_condition(item, (*here, i)) for i, item in enumerate(value))
            items.append(AllOf(parts) if key == "all" else AnyOf(parts))
        elif key == "not":
            items.append(Not(parse_condition(value, here)))
        else:
            items.extend(_parse_field(str(key), value, here))
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def _parse_field(name: str, raw: Any, path: Path) -> list[Condition]:
    spec = FIELDS.get(name)
    if spec is None:
        hint = did_you_mean(name, [*FIELDS, *LOGIC_KEYS])
        raise ConditionError(path, f"unknown field {name!r}{hint}")
    if not isinstance(raw, Mapping):
        if spec.type is FieldType.LIST:
            raise ConditionError(
                path,
                f"{name} is a list: test it with an operator, e.g. {{{name}: {{contains: ...}}}}",
            )
        _check_value(spec, "eq", raw, path)
        return [FieldTest(name, "eq", raw, path)]
    if not raw:
        raise ConditionError(path, f"no operator given for {name}")
    tests: list[Condition] = []
    for operator, value in raw.items():
        if operator not in spec.operators:
            hint = did_you_mean(str(operator), spec.operators)
            allowed = ", ".join(spec.operators)
            raise ConditionError(
                (*path, operator),
                f"operator {operator!r} does not apply to {name} ({_describe_type(spec)})"
                f"{hint}; use one of: {allowed}",
            )
        _check_value(spec, operator, value, (*path, operator))
        tests.append(FieldTest(name, operator, value, (*path, operator)))
    return tests


def _describe_type(spec: FieldSpec) -> str:
    if spec.type is FieldType.CHOICE:
        return "one of " + ", ".join(spec.choices)
    return {
        FieldType.STRING: "a string",
        FieldType.NUMBER: "a number",
        FieldType.BOOLEAN: "true or false",
        FieldType.LIST: "a list of text",
    }[spec.type]


def _check_value(spec: FieldSpec, operator: str, value: Any, path: Path) -> None:
    """Reject literals that cannot compare with the field (the schema says the same)."""
    if operator == "exists":
        if not isinstance(value, bool):
            raise ConditionError(path, "exists takes true or false")
        return
    if operator in ("in", "not_in", "contains_any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(path, f"{operator} takes a non-empty list")
        for index, item in enumerate(value):
            _check_scalar(spec, item, (*path, index))
            if operator == "contains_any" and not item.strip():
                raise ConditionError(
                    (*path, index), "contains_any needs words or phrases, not blank text"
                )
        return
    if operator == "matches":
        if not isinstance(value, str) or not value:
            raise ConditionError(path, "matches takes a regular expression as text")
        return
    _check_scalar(spec, value, path)
    if operator == "contains" and not value.strip():
        raise ConditionError(path, "contains needs a word or phrase, not blank text")


def _check_scalar(spec: FieldSpec, value: Any, path: Path) -> None:
    if spec.type is FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConditionError(path, f"{value!r} is not a number; {spec.name} is a number")
    elif spec.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ConditionError(path, f"{value!r} is not true or false; {spec.name} is a boolean")
    elif not isinstance(value, str) or not value:
        raise ConditionError(path, f"{value!r} is not text; {spec.name} holds text")
    elif spec.choices and value not in spec.choices:
        hint = did_you_mean(value, spec.choices)
        raise ConditionError(
            path,
            f"{value!r} is not a valid {spec.name}{hint}; use one of: {', '.join(spec.choices)}",
        )


def iter_tests(condition: Condition) -> list[FieldTest]:
    """Every field test in a condition tree, in source order."""
    if isinstance(condition, FieldTest):
        return [condition]
    if isinstance(condition, Not):
        return iter_tests(condition.item)
    return [test for item in condition.items for test in iter_tests(item)]


# --------------------------------------------------------------------------- compiling


_WORD = re.compile(r"\w+")
_WORDS_KEY = "\x00words"  # context-key suffixes caching what a text field yields per evaluation
_FOLDED_KEY = "\x00folded"
_FOLDED_ALL_KEY = "\x00folded-all"  # folded, whitespace kept: what regex prefilters look in


def text_words(ctx: Context, name: str) -> frozenset[str]:
    """The case-folded words of a text field, computed once per evaluation and kept in ``ctx``."""
    key = name + _WORDS_KEY
    words: frozenset[str] | None = ctx.get(key)
    if words is None:
        text = ctx.get(name)
        words = frozenset(_WORD.findall(text.casefold())) if text else frozenset()
        ctx[key] = words
    return words


def folded_text(ctx: Context, name: str) -> str:
    """A text field case-folded with whitespace runs collapsed, once per evaluation."""
    key = name + _FOLDED_KEY
    folded: str | None = ctx.get(key)
    if folded is None:
        folded = " ".join(str(ctx.get(name) or "").casefold().split())
        ctx[key] = folded
    return folded


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # exactly what \w matches in a str pattern


def phrase_in(folded: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``folded`` with no word character touching either end."""
    start = folded.find(needle)
    while start != -1:
        end = start + len(needle)
        if (start == 0 or not _is_word_char(folded[start - 1])) and (
            end == len(folded) or not _is_word_char(folded[end])
        ):
            return True
        start = folded.find(needle, start + 1)
    return False


def compile_phrases(name: str, phrases: Sequence[str]) -> Predicate:
    """``contains`` / ``contains_any``: whole words or phrases, ignoring case.

    Both sides are case-folded and whitespace runs collapsed to one space. A single word
    ('balance') then matches exactly when it is one of the text's words — a set lookup; a phrase
    matches where it occurs with no word character touching either end ('follow back' is in
    'Follow  back!' but not in 'unfollow backs').
    """
    cleaned = {" ".join(p.casefold().split()) for p in phrases}
    words = frozenset(p for p in cleaned if _WORD.fullmatch(p))
    needles = tuple(p for p in cleaned if not _WORD.fullmatch(p))
    words_key, folded_key = name + _WORDS_KEY, name + _FOLDED_KEY

    def word_found(ctx: Context) -> bool:
        found = ctx.get(words_key)  # inlined cache check: this is the evaluation's hot path
        return not words.isdisjoint(text_words(ctx, name) if found is None else found)

    def phrase_found(ctx: Context) -> bool:
        folded = ctx.get(folded_key)
        if folded is None:
            folded = folded_text(ctx, name)
        for needle in needles:  # noqa: SIM110 - any(...) costs a generator per call (3x slower)
            if needle in folded and phrase_in(folded, needle):
                return True
        return False

    if not needles:
        return word_found
    if not words:
        return phrase_found
    return lambda ctx: word_found(ctx) or phrase_found(ctx)


def compile_regex(name: str, pattern: str) -> Predicate:
    """``matches``: a regex search, skipped when a literal the pattern needs is absent."""
    search = re.compile(pattern).search
    literals = required_literals(pattern)
    if literals is None:
        return lambda ctx: (text := ctx.get(name)) is not None and search(text) is not None
    folded_key = name + _FOLDED_ALL_KEY

    def test(ctx: Context) -> bool:
        text = ctx.get(name)
        if text is None:
            return False
        folded = ctx.get(folded_key)
        if folded is None:
            folded = ctx[folded_key] = fold(text)
        for literal in literals:
            if literal in folded:
                return search(text) is not None
        return False

    return test


def required_words(condition: Condition) -> tuple[str, frozenset[str]] | None:
    """A text field, and words of which at least one must be among its words for ``condition``.

    A whole-word phrase only matches where each of its words is a word of the text, so a
    condition that needs ``contains`` / ``contains_any`` on a text field cannot hold when none of
    its phrases' (longest) words occur. The evaluator skips such rules without running them.
    """
    parts = condition.items if isinstance(condition, AllOf) else (condition,)
    for part in parts:
        if not isinstance(part, FieldTest) or part.operator not in ("contains", "contains_any"):
            continue
        if FIELDS[part.field].type is not FieldType.STRING:
            continue
        phrases = [part.value] if part.operator == "contains" else part.value
        keys: set[str] = set()
        for phrase in phrases:
            runs = _WORD.findall(str(phrase).casefold())
            if not runs:
                break  # a phrase of symbols only ('!!'): no word to look for
            keys.add(max(runs, key=len))
        else:
            return part.field, frozenset(keys)
    return None


def compile_test(test: FieldTest) -> Predicate:
    """A closure for one field test; all parsing and literal preparation happens here, once."""
    spec = FIELDS[test.field]
    name, operator, value = test.field, test.operator, test.value
    if operator == "exists":
        wanted = bool(value)
        return lambda ctx: (ctx.get(name) not in (None, "", [])) is wanted
    if spec.type is FieldType.LIST:  # tags and data kinds are identifiers: compared exactly
        if operator == "contains":
            return lambda ctx: value in (ctx.get(name) or ())
        items = frozenset(value)
        return lambda ctx: not items.isdisjoint(ctx.get(name) or ())
    if operator in ("contains", "contains_any"):
        return compile_phrases(name, [value] if operator == "contains" else value)
    if operator == "matches":
        return compile_regex(name, value)
    if spec.ordered:
        rank = {choice: index for index, choice in enumerate(spec.choices)}
        return _compare_ranked(name, operator, value, rank)
    if spec.type is FieldType.STRING:
        return _compare_text(name, operator, value)
    return _compare_plain(name, operator, value)


def _compare_text(name: str, operator: str, value: Any) -> Predicate:
    """eq / ne / in / not_in on text, ignoring case."""
    if operator in ("in", "not_in"):
        members = frozenset(str(v).casefold() for v in value)
        if operator == "in":
            return lambda ctx: (v := ctx.get(name)) is not None and v.casefold() in members
        return lambda ctx: (v := ctx.get(name)) is None or v.casefold() not in members
    literal = str(value).casefold()
    if operator == "eq":
        return lambda ctx: (v := ctx.get(name)) is not None and v.casefold() == literal
    return lambda ctx: (v := ctx.get(name)) is None or v.casefold() != literal


def _compare_ranked(name: str, operator: str, value: Any, rank: dict[str, int]) -> Predicate:
    """Choices with an order (priority): ``gte high`` is membership in {high, urgent}."""
    if operator not in ORDER_OPERATORS:
        return _compare_plain(name, operator, value)
    level = rank[value]
    keep: dict[str, Callable[[int], bool]] = {
        "gt": lambda r: r > level,
        "gte": lambda r: r >= level,
        "lt": lambda r: r < level,
        "lte": lambda r: r <= level,
    }
    selected = [choice for choice, r in rank.items() if keep[operator](r)]
    return _compare_plain(name, "in", selected)


def _compare_plain(name: str, operator: str, value: Any) -> Predicate:
    """Numbers, booleans and choices: compare as they are."""
    if operator == "in":
        members = frozenset(value)
        return lambda ctx: (v := ctx.get(name)) is not None and v in members
    if operator == "not_in":
        members = frozenset(value)
        return lambda ctx: (v := ctx.get(name)) is None or v not in members
    if operator == "eq":
        return lambda ctx: (v := ctx.get(name)) is not None and v == value
    if operator == "ne":
        return lambda ctx: (v := ctx.get(name)) is None or v != value
    if operator == "gt":
        return lambda ctx: (v := ctx.get(name)) is not None and v > value
    if operator == "gte":
        return lambda ctx: (v := ctx.get(name)) is not None and v >= value
    if operator == "lt":
        return lambda ctx: (v := ctx.get(name)) is not None and v < value
    if operator == "lte":
        return lambda ctx: (v := ctx.get(name)) is not None and v <= value
    raise AssertionError(f"unhandled operator {operator}")  # parse_condition rejects it first


@dataclass(frozen=True)
class _Leaf:
    """A compiled field test and what it needs to explain itself, prepared once."""

    test: FieldTest
    predicate: Predicate
    label: str  # 'author.followers gte 10000'
    finder: re.Pattern[str] | None  # for 'matches': shows the matched text

    def describe(self, ctx: Context, negated: bool) -> str:
        """``author.followers gte 10000 (was 25000)``, or what matched for text searches."""
        label = "not " + self.label if negated else self.label
        actual = ctx.get(self.test.field)
        if isinstance(actual, str):
            if self.finder is not None:
                found = self.finder.search(actual)
                return f"{label} (matched {found.group(0)!r})" if found else label
            if self.test.operator in ("contains", "contains_any"):
                phrase = matched_phrase(ctx, self.test.field, self.test.value)
                return f"{label} (matched {phrase!r})" if phrase else label
        return f"{label} (was {actual!r})"


class CompiledCondition:
    """A condition compiled to one closure, keeping the tree to explain a match afterwards."""

    def __init__(self, condition: Condition) -> None:
        self.condition = condition
        self._leaves: dict[int, _Leaf] = {}
        self.test: Predicate = self._compile(condition)

    def _compile(self, node: Condition) -> Predicate:
        if isinstance(node, FieldTest):
            predicate = compile_test(node)
            finder = re.compile(node.value) if node.operator == "matches" else None
            label = f"{node.field} {node.operator} {node.value!r}"
            self._leaves[id(node)] = _Leaf(node, predicate, label, finder)
            return predicate
        if isinstance(node, Not):
            inner = self._compile(node.item)
            return lambda ctx: not inner(ctx)
        parts = tuple(self._compile(item) for item in node.items)
        if len(parts) == 1:
            return parts[0]
        if isinstance(node, AllOf):
            if len(parts) == 2:
                first, second = parts
                return lambda ctx: first(ctx) and second(ctx)
            return lambda ctx: all(part(ctx) for part in parts)
        if len(parts) == 2:
            first, second = parts
            return lambda ctx: first(ctx) or second(ctx)
        return lambda ctx: any(part(ctx) for part in parts)

    def explain(self, ctx: Context) -> list[str]:
        """The field tests that made the condition true, as readable sentences."""
        return self._explain(self.condition, ctx, negated=False)

    def _explain(self, node: Condition, ctx: Context, negated: bool) -> list[str]:
        if isinstance(node, FieldTest):
            return [self._leaves[id(node)].describe(ctx, negated)]
        if isinstance(node, Not):
            return self._explain(node.item, ctx, not negated)
        # Under 'not', an all() is true through any failing part and an any() through all of them.
        wants_every = isinstance(node, AllOf) != negated
        chosen = (
            node.items
            if wants_every
            else [item for item in node.items if self._holds(item, ctx) != negated]
        )
        return [line for item in chosen for line in self._explain(item, ctx, negated)]

    def _holds(self, node: Condition, ctx: Context) -> bool:
        if isinstance(node, FieldTest):
            return self._leaves[id(node)].predicate(ctx)
        if isinstance(node, Not):
            return not self._holds(node.item, ctx)
        results = (self._holds(item, ctx) for item in node.items)
        return all(results) if isinstance(node, AllOf) else any(results)


def matched_phrase(ctx: Context, name: str, phrases: str | list[str]) -> str | None:
    """The first of ``phrases`` (as written) that the text field contains, for explanations."""
    folded = folded_text(ctx, name)
    words = text_words(ctx, name)
    for phrase in [phrases] if isinstance(phrases, str) else phrases:
        needle = " ".join(phrase.casefold().split())
        if needle in words or (needle in folded and phrase_in(folded, needle)):
            return phrase
    return None
