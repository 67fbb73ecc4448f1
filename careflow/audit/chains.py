"""Continue-as-new chains: a long inquiry is several runs, and an export (or a folder an auditor
was given) that lacks one of them tells only part of the story. This names the missing runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from careflow.audit.facts import RunFacts


@dataclass(frozen=True)
class MissingRun:
    """A run a chain needs that is not among the histories given."""

    workflow_id: str
    run_id: str
    why: str  # "the chain's first run", "continued from run …", "run … continued as it"

    def __str__(self) -> str:
        return f"{self.workflow_id}: run {self.run_id} is missing ({self.why})"


def missing_runs(runs: Iterable[RunFacts]) -> list[MissingRun]:
    """Every run that a chain among ``runs`` refers to but that is not there, chain by chain."""
    chains: dict[tuple[str, str], dict[str, RunFacts]] = defaultdict(dict)
    for run in runs:
        chains[(run.workflow_id, run.first_run_id)][run.run_id] = run
    missing: dict[str, MissingRun] = {}
    for (workflow_id, first), members in chains.items():
        if first not in members:
            missing[first] = MissingRun(workflow_id, first, "the chain's first run")
        for run in members.values():
            before, after = run.continued_from, run.continued_to
            if before and before not in members and before not in missing:
                missing[before] = MissingRun(
                    workflow_id, before, f"run {run.run_id} continued from it"
                )
            if after and after not in members and after not in missing:
                missing[after] = MissingRun(workflow_id, after, f"run {run.run_id} continued as it")
    return sorted(missing.values(), key=lambda m: (m.workflow_id, m.run_id))
