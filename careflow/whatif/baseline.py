"""Which rules an inquiry is compared against: the ones it ran with (from its history), or the
``--baseline`` file."""

from __future__ import annotations

from careflow.engine.ruleset import RuleFileError, Ruleset, compiled_ruleset
from careflow.whatif.recorded import Recorded
from careflow.whatif.report import RulesUsed


class NoBaseline(ValueError):
    """An inquiry with no rules to compare against (its history ended before they loaded)."""


def baseline_of(recorded: Recorded, baseline: Ruleset | None) -> Ruleset:
    """``baseline`` when given, else the rules in the inquiry's history (compiled once each)."""
    if baseline is not None:
        return baseline
    source = recorded.rules
    if source is None:
        raise NoBaseline("its history ends before its rules loaded: give --baseline")
    try:
        return compiled_ruleset(source.text, source.digest, source.file)
    except (RuleFileError, ValueError) as error:
        raise NoBaseline(f"the rules in its history no longer compile: {error}") from None


def used(ruleset: Ruleset) -> RulesUsed:
    return RulesUsed(name=ruleset.name, digest=ruleset.digest, file=ruleset.source)
