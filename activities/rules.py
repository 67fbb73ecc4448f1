"""Load a rule file for a workflow: the exact text and its hash go into the workflow's history.

The workflow then compiles that text itself (``ruleset_from_checked_text``), so an inquiry keeps
the rules it started with however the file changes later, and replay needs no file at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from careflow.engine.checker import check_text
from careflow.engine.ruleset import digest_of


@dataclass(frozen=True)
class RulesSource:
    """A checked rule file as a workflow receives it."""

    file: str
    name: str
    digest: str
    text: str


class RulesActivities:
    """The ``load_rules`` activity, bound to the rule file the worker is configured with."""

    def __init__(self, default_path: str) -> None:
        self.default_path = default_path

    @activity.defn(name="load_rules")
    async def load_rules(self, path: str | None) -> RulesSource:
        """Load ``path``, or the worker's configured rule file when the inquiry names none."""
        return await load_rules(path or self.default_path)


async def load_rules(path: str) -> RulesSource:
    """Read and fully check a rule file.

    A file that fails the check raises a retryable error carrying every problem: the inquiry
    waits, with the reason in its pending activity, until an ops engineer fixes the file — it is
    never dropped for a deploy mistake.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ApplicationError(
            f"{path}: cannot read rule file: {error.strerror}", type="RuleFileUnreadable"
        ) from None
    result = check_text(raw, path)
    if result.rule_file is None:
        problems = "\n".join(str(problem) for problem in result.problems)
        raise ApplicationError(f"rule file has problems:\n{problems}", type="RuleFileInvalid")
    return RulesSource(
        file=path,
        name=result.rule_file.name,
        digest=digest_of(raw),
        text=raw.decode("utf-8-sig"),
    )
