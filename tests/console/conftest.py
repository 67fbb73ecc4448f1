"""The console's browser tests' stack and browser, one of each per test module (each test makes
inquiries of its own). Per module, not per session: Playwright's sync API holds an event loop in
the test thread while its browser is open, and later tests run ``asyncio.run`` there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import CHROMIUM, playwright_or_skip
from tests.console.stack import ConsoleStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    running = ConsoleStack(tmp_path_factory.mktemp("console")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_or_skip().sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = os.environ.get("CAREFLOW_SCREENSHOTS")
    return Path(folder) if folder else tmp_path
