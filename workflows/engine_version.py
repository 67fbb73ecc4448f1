"""Which rule-engine behaviour an inquiry runs with, and what its status says about it.

The engine (``careflow.engine``) runs inside the workflow, so a change to its decisions changes
replays just as a workflow change does. Such a change bumps ``ENGINE_VERSION`` and keeps the
old behaviour behind ``ruleset.engine`` (careflow.engine.version); the version an inquiry gets
is chosen here once, with ``workflow.patched``, so it is in the history: replay finds the same
markers and keeps the same behaviour, and a run started fresh takes the newest. Version 1 has no
marker, so histories recorded before versions existed replay as version 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from temporalio import workflow

from activities.types import RulesSource
from careflow.engine.version import ENGINE_VERSION, FIRST_ENGINE_VERSION

PATCH_PREFIX = "engine-v"
"""``engine-v2``, ``engine-v3``…: one patch id per engine version after the first."""

NOT_RECORDED = "not recorded"


def patch_id(version: int) -> str:
    """The patch marker that records an inquiry's engine version ``version``."""
    return f"{PATCH_PREFIX}{version}"


def patch_ids() -> dict[str, int]:
    """Every engine patch id this code may ask, newest first, with its version (none yet)."""
    return {
        patch_id(version): version for version in range(ENGINE_VERSION, FIRST_ENGINE_VERSION, -1)
    }


def chosen_version() -> int:
    """The engine version for a new inquiry (call once, in its first run, at the same place).

    Newest first: in a fresh run the newest patch answers True and records its marker; on replay
    only the marker recorded answers True, and no marker at all means version 1.
    """
    for patch, version in patch_ids().items():
        if workflow.patched(patch):
            return version
    return FIRST_ENGINE_VERSION


def versions(rules: RulesSource, engine: int) -> dict[str, str]:
    """The status's record of what made the decisions, beside the ruleset's digest."""
    return {
        "careflow_version": rules.careflow_version or NOT_RECORDED,
        "tzdata_version": rules.tzdata_version or NOT_RECORDED,
        "engine_version": str(engine),
    }


def describe(ruleset: Mapping[str, str]) -> str:
    """``careflow 0.1.0 · tzdata 2026f · engine 1``, for the terminal and the audit report."""
    return (
        f"careflow {ruleset.get('careflow_version', NOT_RECORDED)} · "
        f"tzdata {ruleset.get('tzdata_version', NOT_RECORDED)} · "
        f"engine {ruleset.get('engine_version', FIRST_ENGINE_VERSION)}"
    )
