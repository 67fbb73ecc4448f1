"""What the console's browser tests share: where Debian's chromium is, how to say it is
missing, and signing in through the form."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.console.stack import ConsoleStack

CHROMIUM = os.environ.get("CAREFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HOW = (
    "install Debian's chromium to run the console's browser tests "
    "(apt-get install chromium; make test does it when run as root)"
)


def playwright_or_skip() -> Any:
    """Playwright's sync API; the calling test module is skipped, saying how to enable it,
    where Playwright or chromium is missing."""
    api = pytest.importorskip("playwright.sync_api", reason=f"playwright missing: {HOW}")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: {HOW}", allow_module_level=True)
    return api


def signed_in(
    browser: Any, stack: ConsoleStack, token: str, landing: str = "Open inquiries"
) -> Any:
    """A new browser context, signed in through the form with ``token``; the page it lands on
    has the heading ``landing``."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=landing)).to_be_visible()
    return page
