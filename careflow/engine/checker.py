"""``careflow rules check``: every problem in a rule file, each at the line and column it was written.

Three passes, each reporting everything it finds: YAML (syntax, duplicate keys), the JSON Schema
(structure, translated into plain sentences with "did you mean" hints) and semantic checks the
schema cannot express (references, calendars, clock order, regex safety, templates, events).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FilePath
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from careflow.engine.calendars import BusinessCalendar, CalendarSpecError
from careflow.engine.conditions import Condition, iter_tests
from careflow.engine.durations import DURATION_PATTERN, parse_duration
from careflow.engine.fields import EVENTS, FIELDS, FieldSpec
from careflow.engine.messenger_feedback import CSAT_SCALE
from careflow.engine.model import (
    HOLIDAY_PATTERN,
    PRIVACY_URL_PATTERN,
    SHARE_PATTERN,
    WARN_PATTERN,
    WEBHOOK_PATTERN,
    Clock,
    Rating,
    Rule,
    RuleFile,
)
from careflow.engine.model_base import NAME_PATTERN
from careflow.engine.rating import LANGUAGES as RATING_LANGUAGES
from careflow.engine.rating import tokens as rating_tokens
from careflow.engine.safe_regex import UnsafeRegexError, check_regex
from careflow.engine.suggest import did_you_mean
from careflow.engine.templates import TREND_VARIABLES, VARIABLES, check_template
from careflow.engine.yaml_source import Path, Position, SourceDocument, YamlSourceError, load_yaml

_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?://|www\.)")
SCHEMA_FILE = FilePath(__file__).resolve().parents[2] / "schemas" / "rules.schema.json"

_PATTERN_HINTS = {
    DURATION_PATTERN: "is not a duration: use a number and a unit s, m, h or d, e.g. 45s, 30m, 4h, 2d",
    NAME_PATTERN: "is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter or digit",
    WARN_PATTERN: "is not a warning point: use a duration (10m) or a share of the window (20%)",
    WEBHOOK_PATTERN: "is not a webhook: use an http(s) URL or ${ENV_VAR}",
    SHARE_PATTERN: "is not a share: use a whole percentage from 0% to 100%, e.g. 10%",
    HOLIDAY_PATTERN: "is not a date: use YYYY-MM-DD",
    PRIVACY_URL_PATTERN: "is not a link: give the https:// address of the privacy policy",
    r"\S": "is blank: give a word or phrase",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, printed as ``PATH:LINE:COL: message``."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass
class CheckResult:
    """The problems of one file, and the validated model when there are none."""

    file: str
    problems: list[Problem]
    rule_file: RuleFile | None = None
    document: SourceDocument | None = None


@cache
def rules_schema() -> dict[str, Any]:
    """The rule-file JSON Schema shipped in ``schemas/``."""
    return dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(rules_schema())


class _Collector:
    """Collects problems at positions of the document being checked."""

    def __init__(self, file: str, document: SourceDocument | None) -> None:
        self.file = file
        self.document = document
        self.problems: set[Problem] = set()

    def at(self, path: Path, message: str, *, key: bool = False) -> None:
        position = self.document.position_of(path, key=key) if self.document else Position(1, 1)
        self.problems.add(Problem(self.file, position.line, position.column, message))

    def at_position(self, position: Position, message: str) -> None:
        self.problems.add(Problem(self.file, position.line, position.column, message))


def check_text(raw: bytes | str, file: str) -> CheckResult:
    """Check rule-file content; ``file`` is only used to label problems."""
    try:
        document = load_yaml(raw)
    except YamlSourceError as error:
        problems = [
            Problem(file, p.position.line, p.position.column, p.message) for p in error.problems
        ]
        return CheckResult(file, sorted(problems))
    out = _Collector(file, document)
    if document.data is None:
        out.at(
            (), "the file is empty: a rule file needs version, name, windows, defaults and rules"
        )
        return CheckResult(file, sorted(out.problems), document=document)
    broken_rules: set[int] = set()
    elsewhere = False
    for schema_error in _validator().iter_errors(document.data):
        _report_schema_error(schema_error, out)
        path = tuple(schema_error.absolute_path)
        if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
            broken_rules.add(path[1])
        else:
            elsewhere = True
    rule_file: RuleFile | None = None
    if not elsewhere:
        # Rules with structural problems are set aside so the rest still get every other check.
        data = dict(document.data)
        kept = [i for i in range(len(data.get("rules", []))) if i not in broken_rules]
        data["rules"] = [data["rules"][i] for i in kept]
        try:
            rule_file = RuleFile.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                loc = list(detail["loc"])
                if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                    loc[1] = kept[loc[1]]
                out.at(tuple(loc), detail["msg"])
        if rule_file is not None:
            _semantic_checks(rule_file, out, kept)
    problems = sorted(out.problems)
    return CheckResult(file, problems, rule_file if not problems else None, document)


def check_file(path: FilePath) -> CheckResult:
    """Check one file on disk; unreadable files are a problem, not a crash."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        return CheckResult(
            str(path), [Problem(str(path), 1, 1, f"cannot read file: {error.strerror}")]
        )
    return check_text(raw, str(path))


def rule_files_under(paths: list[FilePath]) -> Iterator[FilePath]:
    """Expand directories into the ``*.yaml`` / ``*.yml`` files they contain, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path


# --------------------------------------------------------------------------- schema errors


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _report_schema_error(error: SchemaError, out: _Collector) -> None:
    path: Path = tuple(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            _report_schema_error(best, out)
            return
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        field = FIELDS.get(str(path[-1])) if path and "when" in path else None
        if field is not None:
            for key in instance:
                if key not in known:
                    out.at((*path, key), _operator_message(field, key), key=True)
            return
        is_condition = "all" in known and "text" in known
        for key in instance:
            if key not in known:
                what = "field" if is_condition else "key"
                out.at((*path, key), f"unknown {what} {key!r}{did_you_mean(key, known)}", key=True)
        return
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        out.at(path, f"missing required key {missing!r}", key=True)
        return
    if validator == "propertyNames":
        out.at((*path, str(instance)), _property_name_message(error), key=True)
        return
    if validator == "enum":
        choices = [str(c) for c in schema.get("enum", [])]
        hint = did_you_mean(str(instance), choices)
        out.at(path, f"{instance!r} is not allowed here{hint}; use one of: {', '.join(choices)}")
        return
    if validator == "const":
        out.at(path, f"must be {error.validator_value!r}, not {instance!r}")
        return
    if validator == "type":
        out.at(path, f"expected {error.validator_value}, got {_json_type(instance)} {instance!r}")
        return
    if validator == "pattern":
        hint = _PATTERN_HINTS.get(str(error.validator_value), "has the wrong format")
        out.at(path, f"{instance!r} {hint}")
        return
    if validator == "minLength" and error.validator_value != 1:
        out.at(path, f"{instance!r} is too short: at least {error.validator_value} characters")
        return
    if validator in ("minItems", "minProperties", "minLength"):
        out.at(path, "must not be empty")
        return
    if validator == "maxLength" and isinstance(instance, str):
        out.at(
            path,
            f"{instance!r} is {len(instance)} characters: at most {error.validator_value} here",
        )
        return
    if validator == "maxProperties":
        keys = ", ".join(instance) if isinstance(instance, dict) else ""
        out.at(
            path,
            f"an action has exactly one key, found {keys}: write each action as its own list item",
        )
        return
    if validator == "minimum":
        out.at(path, f"must be at least {error.validator_value}")
        return
    if validator == "uniqueItems" and isinstance(instance, list):
        seen: list[Any] = []
        for index, item in enumerate(instance):
            if item in seen:
                out.at((*path, index), f"{item!r} is listed twice")
            seen.append(item)
        return
    out.at(path, error.message)


def _operator_message(field: FieldSpec, operator: str) -> str:
    hint = did_you_mean(operator, field.operators)
    return (
        f"operator {operator!r} does not apply to {field.name}{hint}; "
        f"use one of: {', '.join(field.operators)}"
    )


def _property_name_message(error: SchemaError) -> str:
    name = error.instance
    if name == "always":
        return "'always' is the built-in round-the-clock calendar; pick another name"
    return f"{name!r} {_PATTERN_HINTS[NAME_PATTERN]}"


# --------------------------------------------------------------------------- semantic checks


def _semantic_checks(rule_file: RuleFile, out: _Collector, rule_indices: list[int]) -> None:
    """Checks beyond the schema; ``rule_indices`` maps each model rule to its place in the file."""
    _check_calendars(rule_file, out)
    _check_windows(rule_file, out)
    _check_templates(rule_file, out)
    _check_flow(rule_file, out)
    _check_rules(rule_file, out, rule_indices)
    _check_topics(rule_file, out)
    _check_trends(rule_file, out)
    _check_qa(rule_file, out)


def _check_calendars(rule_file: RuleFile, out: _Collector) -> None:
    for name, spec in rule_file.calendars.items():
        try:
            BusinessCalendar.from_spec(name, spec.model_dump())
        except CalendarSpecError as error:
            out.at(("calendars", name, *error.path), error.message, key=error.at_key)


def _check_windows(rule_file: RuleFile, out: _Collector) -> None:
    calendars = ["always", *rule_file.calendars]
    for name, policy in rule_file.windows.items():
        if policy.calendar not in calendars:
            hint = did_you_mean(policy.calendar, calendars)
            out.at(("windows", name, "calendar"), f"unknown calendar {policy.calendar!r}{hint}")
        for clock_name in ("acknowledge", "resolve", "next_reply"):
            clock = getattr(policy, clock_name)
            if clock is not None:
                _check_clock(clock, ("windows", name, clock_name), out)
    _require_policy(rule_file, rule_file.defaults.windows, ("defaults", "windows"), out)


def _require_policy(rule_file: RuleFile, name: str, path: Path, out: _Collector) -> None:
    if name not in rule_file.windows:
        hint = did_you_mean(name, rule_file.windows)
        out.at(path, f"unknown windows policy {name!r}{hint}")


def _check_clock(clock: Clock, path: Path, out: _Collector) -> None:
    internal, published = parse_duration(clock.internal), parse_duration(clock.published)
    if internal > published:
        out.at(
            (*path, "internal"),
            f"internal target {clock.internal} is longer than the published window "
            f"{clock.published}: the team's target must come first",
        )
    warn = clock.warn_before
    if warn and not warn.endswith("%") and parse_duration(warn) >= published:
        out.at(
            (*path, "warn_before"),
            f"warn_before {warn} must be shorter than the published window {clock.published}",
        )


def _check_templates(rule_file: RuleFile, out: _Collector) -> None:
    by_trends = {t.template for t in rule_file.trends} | {
        t.reply_template for t in rule_file.trends if t.reply_template
    }
    for name, source in rule_file.templates.items():
        block = out.document.block_starts.get(("templates", name)) if out.document else None
        variables = TREND_VARIABLES if name in by_trends else VARIABLES
        for problem in check_template(source, variables):
            message = f"template {name!r}: {problem.message}"
            if block is not None:
                out.at_position(Position(block.line + problem.line - 1, block.column), message)
            else:
                out.at(("templates", name), message)


def _require_template(
    rule_file: RuleFile, name: str, path: Path, out: _Collector, *, key: bool = False
) -> None:
    if name not in rule_file.templates:
        hint = did_you_mean(name, rule_file.templates)
        out.at(path, f"unknown template {name!r}{hint}; define it under templates", key=key)


def _check_flow(rule_file: RuleFile, out: _Collector) -> None:
    flow = rule_file.flow
    privatize_written = "privatize" in flow.model_fields_set
    follow_up_written = "follow_up" in flow.model_fields_set
    may_privatize = rule_file.defaults.privatize != "never" or any(
        (action.set is not None and action.set.privatize in ("required", "offer"))
        for rule in rule_file.rules
        for action in rule.do
    )
    if may_privatize:
        where: Path = ("flow", "privatize", "template") if privatize_written else ("templates",)
        _require_template(rule_file, flow.privatize.template, where, out, key=not privatize_written)
    if flow.privatize.reminder_template:
        where = ("flow", "privatize", "reminder_template")
        _require_template(rule_file, flow.privatize.reminder_template, where, out)
    where = ("flow", "follow_up", "template") if follow_up_written else ("templates",)
    _require_template(rule_file, flow.follow_up.template, where, out, key=not follow_up_written)
    if flow.follow_up.rating is not None:
        _check_rating(rule_file, flow.follow_up.rating, out)
    remind = parse_duration(flow.privatize.remind_after)
    if remind >= parse_duration(flow.privatize.give_up_after):
        out.at(
            ("flow", "privatize", "remind_after"),
            f"remind_after {flow.privatize.remind_after} must be shorter than give_up_after "
            f"{flow.privatize.give_up_after}",
        )


def _check_rating(rule_file: RuleFile, rating: Rating, out: _Collector) -> None:
    """``flow.follow_up.rating``: its template exists, its languages have words, its own words
    are words and their scores fit the scale."""
    where: Path = ("flow", "follow_up", "rating")
    if rating.template is not None:
        _require_template(rule_file, rating.template, (*where, "template"), out)
    for index, language in enumerate(rating.languages):
        if language not in RATING_LANGUAGES:
            hint = did_you_mean(language, RATING_LANGUAGES)
            out.at(
                (*where, "languages", index),
                f"careflow has no rating words for language {language!r}{hint}: use "
                f"{', '.join(RATING_LANGUAGES)}, and add your own under words",
            )
    for word, score in rating.words.items():
        if not rating_tokens(word):
            out.at((*where, "words", word), f"{word!r} has no letters or digits", key=True)
        elif score > rating.scale:
            out.at(
                (*where, "words", word),
                f"score {score} for {word!r} is above the scale (1 to {rating.scale})",
            )
    card = rating.messenger_template
    if card is None:
        return
    if rating.scale != CSAT_SCALE:
        out.at(
            (*where, "messenger_template"),
            f"Messenger's customer-feedback template asks a 1 to {CSAT_SCALE} CSAT question; "
            f"the rating's scale is {rating.scale}: set scale to {CSAT_SCALE} or drop "
            "messenger_template",
            key=True,
        )
    texts = {"title": card.title, "subtitle": card.subtitle, "button": card.button}
    texts |= {"question": card.question or "", "comment": card.comment or ""}
    for key, text in texts.items():
        if _URL_IN_TEXT.search(text):
            out.at(
                (*where, "messenger_template", key),
                f"Meta refuses a link in the template's {key}: the privacy link is "
                "privacy_url's, and other links go in a reply",
            )


def _check_qa(rule_file: RuleFile, out: _Collector) -> None:
    """``qa.sampling.when`` is tested when an inquiry closes: its fields must have a value then."""
    if rule_file.qa is None or rule_file.qa.sampling.when is None:
        return
    _check_condition(
        rule_file.qa.sampling.when,
        ("closed",),
        ("qa", "sampling", "when"),
        rule_file,
        out,
        unset="when an inquiry closes, when sampling decides",
    )


def _check_rules(rule_file: RuleFile, out: _Collector, rule_indices: list[int]) -> None:
    first_seen: dict[str, int] = {}
    for index, rule in zip(rule_indices, rule_file.rules, strict=True):
        path: Path = ("rules", index)
        if rule.name in first_seen:
            line = (
                out.document.position_of(("rules", first_seen[rule.name], "name")).line
                if out.document
                else 0
            )
            out.at(
                (*path, "name"), f"duplicate rule name {rule.name!r} (first used on line {line})"
            )
        else:
            first_seen[rule.name] = index
        _check_rule_condition(rule, path, rule_file, out)
        _check_rule_actions(rule, path, rule_file, out)


def _check_rule_condition(rule: Rule, path: Path, rule_file: RuleFile, out: _Collector) -> None:
    if rule.when is not None:
        _check_condition(rule.when, rule.events, (*path, "when"), rule_file, out)


def _check_topics(rule_file: RuleFile, out: _Collector) -> None:
    """A topic tags the post and later customer messages: its fields are the ``received`` ones
    (``text`` is the message being tagged)."""
    for name, topic in rule_file.topics.items():
        _check_condition(topic.when, ("received",), ("topics", name, "when"), rule_file, out)


def _check_trends(rule_file: RuleFile, out: _Collector) -> None:
    """Each trend names a topic, templates and a target that exist; names are unique."""
    seen: set[str] = set()
    for index, trend in enumerate(rule_file.trends):
        path: Path = ("trends", index)
        if trend.name in seen:
            out.at((*path, "name"), f"duplicate trend name {trend.name!r}")
        seen.add(trend.name)
        if trend.topic not in rule_file.topics:
            hint = did_you_mean(trend.topic, rule_file.topics)
            out.at((*path, "topic"), f"unknown topic {trend.topic!r}{hint}; define it under topics")
        _require_template(rule_file, trend.template, (*path, "template"), out)
        if trend.reply_template is not None:
            _require_template(rule_file, trend.reply_template, (*path, "reply_template"), out)
        if trend.approvers not in rule_file.targets:
            hint = did_you_mean(trend.approvers, rule_file.targets)
            out.at(
                (*path, "approvers"),
                f"unknown notification target {trend.approvers!r}{hint}; define it under targets",
            )


def _check_condition(
    condition: Condition,
    events: tuple[str, ...],
    path: Path,
    rule_file: RuleFile,
    out: _Collector,
    unset: str | None = None,
) -> None:
    """Each field has a value on ``events`` (``unset`` says when it would not, if not the
    events), each regex is safe, and each windows value names a policy."""
    for test in iter_tests(condition):
        where = (*path, *test.path)
        field_path = where if where[-1] == test.field else where[:-1]
        spec = FIELDS[test.field]
        missing = [event for event in events if event not in spec.events]
        if missing and unset is not None:
            out.at(field_path, f"field {test.field!r} has no value {unset}", key=True)
        elif missing:
            has = (
                ", ".join(sorted(spec.events)) if len(spec.events) < len(EVENTS) else "every event"
            )
            out.at(
                field_path,
                f"field {test.field!r} has no value on {', '.join(missing)} (it is set on {has})",
                key=True,
            )
        if test.operator == "matches":
            try:
                check_regex(test.value)
            except UnsafeRegexError as error:
                out.at(where, str(error))
        if test.field == "windows" and test.operator in ("eq", "ne", "in", "not_in"):
            values = test.value if isinstance(test.value, list) else [test.value]
            for value in values:
                _require_policy(rule_file, value, where, out)


def _check_rule_actions(rule: Rule, path: Path, rule_file: RuleFile, out: _Collector) -> None:
    for number, action in enumerate(rule.do):
        where: Path = (*path, "do", number, action.kind)
        if action.drop is not None and rule.events != ("received",):
            out.at(
                where,
                "drop only works on the received event (it stops a post before it starts)",
                key=True,
            )
        if action.reopen is not None and "received" in rule.events:
            out.at(where, "reopen does not apply to received: the inquiry is new", key=True)
        if action.set is not None and action.set.windows is not None:
            _require_policy(rule_file, action.set.windows, (*where, "windows"), out)
        if action.reply is not None:
            _require_template(rule_file, action.reply.template, (*where, "template"), out)
        if action.invite_private is not None:
            _require_template(rule_file, action.invite_private, where, out)
        if action.notify is not None:
            target = action.notify if isinstance(action.notify, str) else action.notify.target
            target_path = where if isinstance(action.notify, str) else (*where, "target")
            if target not in rule_file.targets:
                hint = did_you_mean(target, rule_file.targets)
                out.at(
                    target_path,
                    f"unknown notification target {target!r}{hint}; define it under targets",
                )
            if not isinstance(action.notify, str) and action.notify.template:
                _require_template(rule_file, action.notify.template, (*where, "template"), out)
