"""The load_rules activity hands the workflow a checked rule file, or a clear, retryable error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.rules import RulesActivities, load_rules
from activities.types import RulesSource
from careflow.engine.ruleset import (
    compiled_ruleset,
    digest_of,
    load_ruleset,
    ruleset_from_checked_text,
)
from tests.conftest import DEFAULT_PACK


def run(path: Path) -> RulesSource:
    return asyncio.run(ActivityEnvironment().run(load_rules, str(path)))


def test_loads_text_name_and_the_digest_explain_reports() -> None:
    source = run(DEFAULT_PACK)
    assert source.name == "default"
    assert source.text == DEFAULT_PACK.read_text()
    assert source.digest == load_ruleset(DEFAULT_PACK).digest
    compiled = ruleset_from_checked_text(source.text, source.digest, source.file)
    assert compiled.digest == source.digest
    assert [r.name for r in compiled.rule_file.rules] == [
        r.name for r in load_ruleset(DEFAULT_PACK).rule_file.rules
    ]


def test_broken_file_is_a_retryable_error_listing_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEFAULT_PACK.read_text().replace("internal: 30m", "internal: 3O m"))
    with pytest.raises(ApplicationError) as caught:
        run(broken)
    assert caught.value.type == "RuleFileInvalid"
    assert not caught.value.non_retryable
    assert f"{broken}:22:29: '3O m' is not a duration" in caught.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError, match="cannot read rule file") as caught:
        run(tmp_path / "nope.yaml")
    assert caught.value.type == "RuleFileUnreadable"


def test_an_inquiry_without_a_rule_file_gets_the_workers(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(DEFAULT_PACK.read_text().replace("name: default", "name: other", 1))
    activities = RulesActivities(str(DEFAULT_PACK))
    configured = asyncio.run(ActivityEnvironment().run(activities.load_rules, None))
    named = asyncio.run(ActivityEnvironment().run(activities.load_rules, str(other)))
    assert (configured.name, named.name) == ("default", "other")


def test_a_worker_compiles_each_rule_file_version_once() -> None:
    source = run(DEFAULT_PACK)
    first = compiled_ruleset(source.text, source.digest, source.file)
    assert compiled_ruleset(source.text, source.digest, source.file) is first
    edited = source.text.replace("name: default", "name: edited", 1)
    other = compiled_ruleset(edited, digest_of(edited), source.file)
    assert other is not first and other.name == "edited"
