"""The rule engine's behaviour version: the engine runs inside workflows, so its decisions are
part of every recorded history, and changing them is a workflow change.

Bump ``ENGINE_VERSION`` when the same rules and the same events would give other decisions (a
fired rule, an action, a value, a deadline), and keep the old behaviour behind
``if ruleset.engine < N``. Workflows pick the version with ``workflow.patched`` once per
inquiry (``workflows.engine_version``), so an inquiry recorded under an older engine replays,
and runs on, with that engine's behaviour. A refactoring that changes no decision needs no bump.
"""

from __future__ import annotations

__all__ = ["ENGINE_VERSION", "FIRST_ENGINE_VERSION", "check_engine_version"]

FIRST_ENGINE_VERSION = 1
"""The behaviour of every history recorded before engine versions existed."""

ENGINE_VERSION = 1
"""The newest behaviour; no change has needed a bump yet."""


def check_engine_version(engine: int) -> int:
    """``engine`` if this code knows it; a history from a newer careflow fails loudly instead of
    silently taking today's behaviour (a workflow task then retries on an up-to-date worker)."""
    if not FIRST_ENGINE_VERSION <= engine <= ENGINE_VERSION:
        raise ValueError(
            f"rule engine version {engine} is unknown to this careflow "
            f"(it knows {FIRST_ENGINE_VERSION}..{ENGINE_VERSION}): upgrade the worker"
        )
    return engine
