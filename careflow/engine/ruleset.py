"""A checked rule file compiled for evaluation: conditions become closures once, at load time.

Evaluating an event is a loop over the compiled rules registered for it: no parsing, no I/O, no
clock, so the same code runs at intake, in ``careflow rules explain`` and inside the workflow.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any

from careflow.engine.calendars import ALWAYS, BusinessCalendar, Calendar
from careflow.engine.checker import CheckResult, Problem, check_text
from careflow.engine.conditions import (
    CompiledCondition,
    Predicate,
    iter_tests,
    required_words,
    text_words,
)
from careflow.engine.durations import humanize_duration, parse_duration
from careflow.engine.limits import evaluated_text
from careflow.engine.model import Action, Clock, RuleFile, WindowsPolicy
from careflow.engine.post import Author, Inquiry
from careflow.engine.sensitive import find_sensitive
from careflow.engine.version import ENGINE_VERSION, check_engine_version
from careflow.engine.yaml_source import load_yaml

CLOCK_NAMES = ("acknowledge", "resolve", "next_reply")


class RuleFileError(ValueError):
    """A rule file with problems; ``problems`` are ready to print as ``PATH:LINE:COL: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Values:
    """What rules decide about an inquiry; ``defaults`` fill whatever no rule sets."""

    category: str
    priority: str
    queue: str
    windows: str
    privatize: str
    tags: tuple[str, ...] = ()
    # Who the customer is, for insights and trends (``set: {segment: …}``, ``defaults.segment``).
    segment: str = "general"


@dataclass(frozen=True)
class TakenAction:
    """An action of a fired rule, as written in the rule file."""

    rule: str
    kind: str
    spec: Any


@dataclass(frozen=True)
class Decision:
    """The outcome of one event: values, actions in order, and which rules fired and why."""

    event: str
    dropped: bool
    drop_reason: str | None
    values: Values
    fired: list[str]
    why: dict[str, list[str]]
    actions: list[TakenAction]


@dataclass(frozen=True)
class _CompiledAction:
    kind: str
    spec: Any
    updates: tuple[tuple[str, Any], ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class _CompiledRule:
    name: str
    condition: CompiledCondition | None
    actions: tuple[_CompiledAction, ...]
    stop: bool


def _compile_action(action: Action) -> _CompiledAction:
    kind = action.kind
    spec = getattr(action, kind)
    if kind == "set":
        updates = tuple((k, getattr(spec, k)) for k in spec.model_fields_set)
        return _CompiledAction(kind, spec.model_dump(exclude_unset=True), updates=updates)
    if kind == "tag":
        tags = (spec,) if isinstance(spec, str) else tuple(spec)
        return _CompiledAction(kind, list(tags), tags=tags)
    if hasattr(spec, "model_dump"):
        return _CompiledAction(kind, spec.model_dump(exclude_none=True))
    return _CompiledAction(kind, spec)


@dataclass(frozen=True)
class _EventPlan:
    """The rules of one event, and an index to skip those that provably cannot fire.

    ``by_word[field][word]`` lists the positions of rules that need ``word`` among the words of
    ``field`` (see ``required_words``); ``always`` lists the rules with no such need.
    """

    rules: tuple[tuple[Predicate | None, _CompiledRule], ...]
    always: tuple[int, ...]
    by_word: dict[str, dict[str, tuple[int, ...]]]

    def candidates(self, ctx: dict[str, Any]) -> list[tuple[Predicate | None, _CompiledRule]]:
        """The rules worth testing for this context, in file order."""
        if not self.by_word:
            return list(self.rules)
        positions = set(self.always)
        for field, index in self.by_word.items():
            for word in index.keys() & text_words(ctx, field):
                positions.update(index[word])
        return [self.rules[i] for i in sorted(positions)]


def _plan(rules: list[_CompiledRule]) -> _EventPlan:
    always: list[int] = []
    by_word: dict[str, dict[str, list[int]]] = {}
    for position, rule in enumerate(rules):
        gate = required_words(rule.condition.condition) if rule.condition is not None else None
        if gate is None:
            always.append(position)
            continue
        field, words = gate
        for word in words:
            by_word.setdefault(field, {}).setdefault(word, []).append(position)
    return _EventPlan(
        rules=tuple(
            (rule.condition.test if rule.condition is not None else None, rule) for rule in rules
        ),
        always=tuple(always),
        by_word={f: {w: tuple(p) for w, p in index.items()} for f, index in by_word.items()},
    )


@dataclass(frozen=True)
class ClockDeadlines:
    """When one clock's internal target and published window fall due."""

    internal_due: datetime
    published_due: datetime


class Ruleset:
    """A rule file ready to evaluate; keep one per file version (``digest`` identifies it)."""

    def __init__(
        self, rule_file: RuleFile, digest: str, source: str, *, engine: int = ENGINE_VERSION
    ) -> None:
        self.rule_file = rule_file
        # The behaviour version (careflow.engine.version): old behaviour stays behind
        # ``if self.engine < N`` so inquiries recorded under it keep it.
        self.engine = check_engine_version(engine)
        self.name = rule_file.name
        self.digest = digest
        self.source = source
        self.calendars: dict[str, Calendar] = {"always": ALWAYS}
        for name, spec in rule_file.calendars.items():
            self.calendars[name] = BusinessCalendar.from_spec(name, spec.model_dump())
        by_event: dict[str, list[_CompiledRule]] = {}
        used: set[str] = set()
        for rule in rule_file.rules:
            compiled = _CompiledRule(
                name=rule.name,
                condition=CompiledCondition(rule.when) if rule.when is not None else None,
                actions=tuple(_compile_action(a) for a in rule.do),
                stop=rule.stop,
            )
            if rule.when is not None:
                used.update(test.field for test in iter_tests(rule.when))
            for event in rule.events:
                by_event.setdefault(event, []).append(compiled)
        self._plans = {event: _plan(rules) for event, rules in by_event.items()}
        # Spotting personal data scans the text: only done for fields some condition reads.
        self._uses_sensitive = "sensitive" in used
        self._uses_message_sensitive = "message.sensitive" in used
        defaults = rule_file.defaults
        self.defaults = Values(
            category=defaults.category,
            priority=defaults.priority,
            queue=defaults.queue,
            windows=defaults.windows,
            privatize=defaults.privatize,
            segment=defaults.segment,
        )
        self.topics = tuple(
            (name, CompiledCondition(topic.when)) for name, topic in rule_file.topics.items()
        )
        self._topics_use_sensitive = any(
            test.field == "sensitive"
            for topic in rule_file.topics.values()
            for test in iter_tests(topic.when)
        )

    # ------------------------------------------------------------------ evaluation

    def context(
        self,
        inquiry: Inquiry,
        values: Values,
        extra: Mapping[str, Any] | None = None,
        *,
        bounded: bool = False,
    ) -> dict[str, Any]:
        """The flat ``field -> value`` mapping that conditions read (``bounded``: see evaluate)."""
        author = inquiry.author
        text = inquiry.text
        if bounded:
            text = evaluated_text(text, inquiry.channel, inquiry.kind)
        ctx: dict[str, Any] = {
            "text": text,
            "channel": inquiry.channel,
            "kind": inquiry.kind,
            "id": inquiry.id,
            "conversation_id": inquiry.conversation_id,
            "url": inquiry.url,
            "author.id": author.id,
            "author.handle": author.handle,
            "author.name": author.name,
            "author.followers": author.followers,
            "author.verified": author.verified,
            "category": values.category,
            "priority": values.priority,
            "queue": values.queue,
            "windows": values.windows,
            "privatize": values.privatize,
            "segment": values.segment,
            "tags": list(values.tags),
            "step": "acknowledge",
        }
        if self._uses_sensitive:  # personal data anywhere in the text counts, cut or not
            ctx["sensitive"] = find_sensitive(inquiry.text)
        if extra:
            ctx.update(extra)
            message = extra.get("message.text")
            if bounded and message is not None:
                kind = "private" if extra.get("message.private") else "public"
                ctx["message.text"] = evaluated_text(message, inquiry.channel, kind)
            if (
                self._uses_message_sensitive
                and message is not None
                and "message.sensitive" not in extra
            ):
                ctx["message.sensitive"] = find_sensitive(message)
        return ctx

    def evaluate(
        self,
        event: str,
        inquiry: Inquiry,
        values: Values | None = None,
        extra: Mapping[str, Any] | None = None,
        *,
        explain: bool = True,
        bounded: bool = False,
    ) -> Decision:
        """Run the rules for ``event`` in file order; every match acts, ``stop``/``drop`` end it.

        ``explain=False`` leaves ``why`` empty: the intake's firehose filter only needs to know
        whether a post is dropped, and explanations are a third of the cost.

        ``bounded=True`` has the text fields (``text``, ``message.text``) read only up to their
        channel's limit (``careflow.engine.limits``), so one huge post costs no more than a long
        real one; ``sensitive`` still looks at the whole text. It can change the decision on a
        text over the limit, so workflow code passes it behind ``workflow.patched``: the default,
        False, evaluates as recorded histories did.
        """
        start = values if values is not None else self.defaults
        ctx = self.context(inquiry, start, extra, bounded=bounded)
        tags = list(start.tags)
        fired: list[str] = []
        why: dict[str, list[str]] = {}
        actions: list[TakenAction] = []
        drop_reason: str | None = None
        plan = self._plans.get(event)
        for test, rule in plan.candidates(ctx) if plan is not None else ():
            if test is not None and not test(ctx):
                continue
            fired.append(rule.name)
            if explain:
                condition = rule.condition
                why[rule.name] = condition.explain(ctx) if condition is not None else ["always"]
            for action in rule.actions:
                actions.append(TakenAction(rule.name, action.kind, action.spec))
                if action.updates:
                    ctx.update(action.updates)
                elif action.tags:
                    tags.extend(t for t in action.tags if t not in tags)
                    ctx["tags"] = list(tags)
                elif action.kind == "drop":
                    drop_reason = action.spec
                    break
            if drop_reason is not None or rule.stop:
                break
        return Decision(
            event=event,
            dropped=drop_reason is not None,
            drop_reason=drop_reason,
            values=Values(
                category=ctx["category"],
                priority=ctx["priority"],
                queue=ctx["queue"],
                windows=ctx["windows"],
                privatize=ctx["privatize"],
                tags=tuple(tags),
                segment=ctx["segment"],
            ),
            fired=fired,
            why=why,
            actions=actions,
        )

    def topics_of(self, inquiry: Inquiry, values: Values, text: str | None = None) -> list[str]:
        """The topics whose condition holds for the post, or for ``text`` (a later customer
        message: in a topic, ``text`` is the message being tagged), in file order."""
        if not self.topics:
            return []
        ctx = self.context(inquiry, values, bounded=True)
        if text is not None:
            ctx["text"] = evaluated_text(text, inquiry.channel, inquiry.kind)
        if self._topics_use_sensitive:
            ctx["sensitive"] = find_sensitive(inquiry.text if text is None else text)
        return [name for name, condition in self.topics if condition.test(ctx)]

    def topic_covers(self, text: str) -> bool:
        """Whether some topic matches ``text`` on its own (an emerging phrase already covered)."""
        ctx = {"text": text}
        return any(condition.test(ctx) for _, condition in self.topics)

    def values_set(self, name: str) -> list[str]:
        """Every value the rules may give ``name`` (``segment``, ``category``…): the default,
        then each ``set`` in file order; what ``careflow insights`` groups by."""
        found = dict.fromkeys([str(getattr(self.rule_file.defaults, name))])
        for rule in self.rule_file.rules:
            for action in rule.do:
                value = getattr(action.set, name, None) if action.set is not None else None
                if value is not None:
                    found[str(value)] = None
        return list(found)

    def explain_topics(self, inquiry: Inquiry, values: Values) -> dict[str, list[str]]:
        """Each topic the post matches, with the tests that matched (``rules explain``)."""
        ctx = self.context(inquiry, values, bounded=True)
        if self._topics_use_sensitive:
            ctx["sensitive"] = find_sensitive(inquiry.text)
        return {
            name: condition.explain(ctx) for name, condition in self.topics if condition.test(ctx)
        }

    # ------------------------------------------------------------------ clocks

    def policy(self, name: str) -> WindowsPolicy:
        """The windows policy called ``name`` (checked to exist at load time)."""
        return self.rule_file.windows[name]

    def calendar(self, policy_name: str) -> Calendar:
        """The calendar a windows policy counts on."""
        return self.calendars[self.policy(policy_name).calendar]

    def deadlines(self, policy_name: str, clock: str, start: datetime) -> ClockDeadlines | None:
        """Due times of ``clock`` started at ``start``, or None if the policy has no such clock."""
        spec: Clock | None = getattr(self.policy(policy_name), clock)
        if spec is None:
            return None
        calendar = self.calendar(policy_name)
        return ClockDeadlines(
            internal_due=calendar.due(start, parse_duration(spec.internal)),
            published_due=calendar.due(start, parse_duration(spec.published)),
        )

    def window_variables(self, policy_name: str, start: datetime | None = None) -> dict[str, Any]:
        """The ``window`` template variable: human durations, and due times when a start is known."""
        policy = self.policy(policy_name)
        result: dict[str, Any] = {"name": policy_name}
        for clock in CLOCK_NAMES:
            spec: Clock | None = getattr(policy, clock)
            if spec is None:
                continue
            entry: dict[str, Any] = {
                "internal": humanize_duration(parse_duration(spec.internal)),
                "published": humanize_duration(parse_duration(spec.published)),
            }
            # Only the first two clocks start with the post; next_reply starts per message.
            deadlines = None
            if start is not None and clock != "next_reply":
                deadlines = self.deadlines(policy_name, clock, start)
            if deadlines is not None:
                entry["internal_due"] = deadlines.internal_due.isoformat()
                entry["published_due"] = deadlines.published_due.isoformat()
            result[clock] = entry
        return result

    def template_variables(
        self, inquiry: Inquiry, values: Values, agent: str | None = None
    ) -> dict[str, Any]:
        """Everything a template may read; customer text goes in as data only."""
        brand = self.rule_file.brand
        return {
            "inquiry": {
                **inquiry.model_dump(mode="json", exclude={"author"}),
                "category": values.category,
                "priority": values.priority,
                "queue": values.queue,
                "tags": list(values.tags),
            },
            "author": {
                **inquiry.author.model_dump(mode="json"),
                "name": display_name(inquiry.author, self.rule_file.flow.unknown_name),
            },
            "agent": {"name": agent or ""},
            "brand": {"name": brand.name or self.name, "handle": brand.handle or ""},
            "window": self.window_variables(values.windows, inquiry.received_at),
        }


def display_name(author: Author, unknown: str) -> str:
    """What templates call the customer: their name, else their handle, but never their id
    (Messenger and Instagram DMs carry only a page-scoped id, which is both id and handle until
    the intake reads the profile), else the rule file's ``flow.unknown_name``."""
    for candidate in (author.name, author.handle):
        if candidate and candidate.strip() and candidate.strip() != author.id:
            return candidate
    return unknown


def digest_of(raw: bytes | str) -> str:
    """The sha256 that identifies a rule file's exact content (``ruleset.digest``)."""
    return hashlib.sha256(raw.encode("utf-8") if isinstance(raw, str) else raw).hexdigest()


def ruleset_from_text(raw: bytes | str, file: str) -> Ruleset:
    """Check and compile rule-file content; raise RuleFileError listing every problem."""
    result: CheckResult = check_text(raw, file)
    if result.rule_file is None:
        raise RuleFileError(result.problems)
    return Ruleset(result.rule_file, digest_of(raw), file)


def ruleset_from_checked_text(
    text: str, digest: str, file: str, *, engine: int = ENGINE_VERSION
) -> Ruleset:
    """Compile text that ``rules check`` already accepted (in an activity), without I/O.

    For workflow code: it skips the JSON Schema (a file read) and the semantic checks, keeping
    only what compiling needs; ``digest`` is the one computed when the file was read. Workflows
    pass the ``engine`` version their inquiry runs with (``workflows.engine_version``).
    """
    return Ruleset(RuleFile.model_validate(load_yaml(text).data), digest, file, engine=engine)


@functools.lru_cache(maxsize=32)
def compiled_ruleset(text: str, digest: str, file: str, *, engine: int = ENGINE_VERSION) -> Ruleset:
    """``ruleset_from_checked_text``, compiled once per worker process for each rule file version.

    Safe to share between workflows: the key is the content itself, and a Ruleset is never
    changed after it is built. Compiling the default pack costs about 28 ms; a worker starts
    (and replays) many inquiries with the same rules.
    """
    return ruleset_from_checked_text(text, digest, file, engine=engine)


def load_ruleset(path: FilePath) -> Ruleset:
    """Check and compile a rule file on disk."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RuleFileError(
            [Problem(str(path), 1, 1, f"cannot read file: {error.strerror}")]
        ) from None
    return ruleset_from_text(raw, str(path))
