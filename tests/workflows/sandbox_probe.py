"""A workflow that runs the rule engine inside Temporal's sandbox (used by test_sandbox.py).

Kept in its own module with few imports: the sandbox re-imports the module that defines a
workflow on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from careflow.engine.post import Inquiry
    from careflow.engine.ruleset import ruleset_from_checked_text


@dataclass
class ProbeInput:
    rules_text: str
    digest: str
    inquiry: Inquiry


@dataclass
class ProbeResult:
    fired: list[str]
    why: dict[str, list[str]]
    priority: str
    windows: str
    acknowledge_published_due: str


@workflow.defn
class TriageProbe:
    """Compile a checked rule file and triage one inquiry, all in workflow code."""

    @workflow.run
    async def run(self, probe: ProbeInput) -> ProbeResult:
        ruleset = ruleset_from_checked_text(probe.rules_text, probe.digest, "probe")
        decision = ruleset.evaluate("received", probe.inquiry)
        due = ruleset.deadlines(decision.values.windows, "acknowledge", probe.inquiry.created_at)
        assert due is not None
        return ProbeResult(
            fired=decision.fired,
            why=decision.why,
            priority=decision.values.priority,
            windows=decision.values.windows,
            acknowledge_published_due=due.published_due.isoformat(),
        )
