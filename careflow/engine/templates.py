"""Message templates: Jinja2's sandboxed environment, with the variables a template may use.

Customer text is only ever passed in as data, never compiled, so a post containing ``{{ ... }}``
renders literally. Unknown variables and attributes are caught by ``careflow rules check``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from careflow.engine.suggest import did_you_mean

_CLOCK = ("internal", "published")
# Variable -> attributes a template may read (None: any attribute, e.g. nested clocks).
VARIABLES: dict[str, tuple[str, ...]] = {
    "inquiry": (
        "id",
        "channel",
        "kind",
        "conversation_id",
        "text",
        "url",
        "attachments",
        "created_at",
        "category",
        "priority",
        "queue",
        "tags",
    ),
    "author": ("id", "handle", "name", "followers", "verified"),
    "agent": ("name",),
    "brand": ("name", "handle"),
    "window": ("name", "acknowledge", "resolve", "next_reply"),
}
WINDOW_CLOCK_ATTRIBUTES = ("internal", "published", "internal_due", "published_due")
# A trend's templates (the proactive post and the replies after it) speak of the spike, not of
# one inquiry: these are all they may read.
TREND_VARIABLES: dict[str, tuple[str, ...]] = {
    "trend": ("name", "topic", "segment", "count", "baseline", "window", "post_url"),
    "brand": ("name", "handle"),
}


@dataclass(frozen=True)
class TemplateProblem:
    """A problem inside a template, ``line`` counted from the template's first line (1-based)."""

    line: int
    message: str


class TemplateRenderError(ValueError):
    """A template could not render with the values at hand."""


def _blank_none(value: Any) -> Any:
    """A value the platform did not give (no URL, hidden follower count) prints as nothing."""
    return "" if value is None else value


_ENVIRONMENT = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_blank_none
)


def check_template(
    source: str, variables: Mapping[str, tuple[str, ...]] = VARIABLES
) -> list[TemplateProblem]:
    """Syntax errors, unknown variables and unknown attributes, each with its template line;
    ``variables``: what the template may read (``TREND_VARIABLES`` for a trend's)."""
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as error:
        return [TemplateProblem(error.lineno or 1, f"template syntax error: {error.message}")]
    problems: list[TemplateProblem] = []
    local_names = {
        node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")
    }
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in variables and name.name not in local_names:
            hint = did_you_mean(name.name, variables)
            known = ", ".join(variables)
            problems.append(
                TemplateProblem(
                    name.lineno, f"unknown template variable {name.name!r}{hint}; use {known}"
                )
            )
    for getattr_node in tree.find_all(nodes.Getattr):
        problems.extend(_check_attribute(getattr_node, variables))
    return sorted(set(problems), key=lambda p: (p.line, p.message))


def _check_attribute(
    node: nodes.Getattr, variables: Mapping[str, tuple[str, ...]]
) -> list[TemplateProblem]:
    target = node.node
    if isinstance(target, nodes.Name) and target.name in variables:
        allowed = variables[target.name]
        owner = target.name
    elif (
        isinstance(target, nodes.Getattr)
        and isinstance(target.node, nodes.Name)
        and target.node.name == "window"
        and "window" in variables
        and target.attr in ("acknowledge", "resolve", "next_reply")
    ):
        allowed = WINDOW_CLOCK_ATTRIBUTES
        owner = f"window.{target.attr}"
    else:
        return []
    if node.attr in allowed:
        return []
    hint = did_you_mean(node.attr, allowed)
    return [
        TemplateProblem(
            node.lineno,
            f"{owner} has no attribute {node.attr!r}{hint}; it has {', '.join(allowed)}",
        )
    ]


# What a template reads of one variable: these attributes, or ``WHOLE`` (it is read otherwise
# than as ``name.attribute``: passed to a filter, looped over, indexed).
WHOLE = None
Reads = dict[str, frozenset[str] | None]


@functools.lru_cache(maxsize=256)
def _reads(source: str) -> tuple[tuple[str, frozenset[str] | None], ...] | None:
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError:
        return None
    attributes: dict[str, set[str]] = {}
    read_by_attribute: set[int] = set()
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.ctx == "load":
            attributes.setdefault(node.node.name, set()).add(node.attr)
            read_by_attribute.add(id(node.node))
    whole = {
        name.name
        for name in tree.find_all(nodes.Name)
        if name.ctx == "load" and id(name) not in read_by_attribute
    }
    names = sorted(whole | set(attributes))
    return tuple((n, WHOLE if n in whole else frozenset(attributes[n])) for n in names)


def reads(source: str) -> Reads | None:
    """The variables ``source`` reads, each with the attributes it reads (``WHOLE``: all of
    it); None when it does not parse (rendering will say why)."""
    found = _reads(source)
    return None if found is None else dict(found)


def needed(source: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` cut down to what ``source`` reads: it renders the same, and the rest (the
    customer's text, their id, what the template never shows) is not passed along."""
    read = reads(source)
    if read is None:
        return dict(variables)
    kept: dict[str, Any] = {}
    for name, value in variables.items():
        if name not in read:
            continue
        attributes = read[name]
        if attributes is WHOLE or not isinstance(value, Mapping):
            kept[name] = value
        else:
            kept[name] = {key: item for key, item in value.items() if key in attributes}
    return kept


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """A template compiles once per process; rendering is then a fraction of a millisecond."""
    return _ENVIRONMENT.from_string(source)


def render_template(source: str, variables: Mapping[str, Any]) -> str:
    """Render ``source`` with ``variables``; a missing value is a TemplateRenderError, not blank."""
    try:
        return _compiled(source).render(**variables).strip()
    except (UndefinedError, SecurityError, TemplateSyntaxError, TypeError, ValueError) as error:
        raise TemplateRenderError(f"template failed to render: {error}") from None
