"""Load a rule file for a workflow: the exact text and its hash go into the workflow's history,
with the careflow and tz database versions that will run it (docs/audit.md).

The workflow then compiles that text itself (``ruleset_from_checked_text``), so an inquiry keeps
the rules it started with however the file changes later, and replay needs no file at all.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.types import LOAD_RULES, RulesSource
from careflow.engine.checker import check_text
from careflow.engine.ruleset import digest_of
from careflow.engine.zones import TZDATA_VERSION


class RulesActivities:
    """The ``load_rules`` activity, bound to the rule file the worker is configured with."""

    def __init__(self, default_path: str) -> None:
        self.default_path = default_path

    @activity.defn(name=LOAD_RULES)
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
    return _checked(raw, path)


@functools.lru_cache(maxsize=32)
def _checked(raw: bytes, path: str) -> RulesSource:
    """Check content once per worker process: the check depends on the bytes alone, and it
    costs tens of milliseconds (the YAML loader and the JSON Schema) on every inquiry otherwise.
    A file that fails raises, and exceptions are not cached: the next inquiry checks again."""
    result = check_text(raw, path)
    if result.rule_file is None:
        problems = "\n".join(str(problem) for problem in result.problems)
        raise ApplicationError(f"rule file has problems:\n{problems}", type="RuleFileInvalid")
    return RulesSource(
        file=path,
        name=result.rule_file.name,
        digest=digest_of(raw),
        # Exactly the bytes the digest is over (a byte-order mark kept), so anyone can re-derive
        # the digest from the history; the YAML loader skips the mark.
        text=raw.decode("utf-8"),
        careflow_version=careflow_version(),
        tzdata_version=TZDATA_VERSION,
    )


@functools.cache
def careflow_version() -> str:
    """The installed careflow's version, as recorded with each ruleset load."""
    try:
        return metadata.version("careflow")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
