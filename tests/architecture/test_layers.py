"""The layers in pyproject.toml hold, and ``lint-imports`` (run by ``make test``) fails the build
when code crosses one: a forbidden import is caught, named, and located."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("careflow", "workflows", "activities")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on ``tree``'s packages, with ``tree``'s own contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of careflow's packages and contracts, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(module: Path, line: str) -> None:
    text = module.read_text()
    marker = "from __future__ import annotations\n"
    module.write_text(text.replace(marker, f"{marker}\n{line}\n", 1))


def test_the_packages_keep_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_workflow_code_importing_an_adapter_breaks_the_build(tree: Path) -> None:
    add_import(tree / "workflows" / "clocks.py", "import activities.adapters.platform")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "workflows.clocks -> activities.adapters.platform" in result.stdout
    assert "imports no I/O" in result.stdout  # the deterministic-workflows contract


def test_the_engine_reaching_for_temporal_breaks_the_build(tree: Path) -> None:
    add_import(tree / "careflow" / "engine" / "durations.py", "import careflow.temporal.worker")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "careflow.engine.durations -> careflow.temporal.worker" in result.stdout


def test_production_code_importing_the_fake_platform_breaks_the_build(tree: Path) -> None:
    add_import(tree / "careflow" / "http" / "app.py", "import careflow.devtools.fake_platform")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "careflow.http.app -> careflow.devtools.fake_platform" in result.stdout


def test_an_import_circle_breaks_the_build(tree: Path) -> None:
    add_import(tree / "careflow" / "temporal" / "explain.py", "import careflow.temporal.intake")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "No cycles are allowed in careflow.temporal" in result.stdout
