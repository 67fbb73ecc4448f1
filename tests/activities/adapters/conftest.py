"""The fake platform, served by uvicorn on a free port once per test module, cleared per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from careflow.devtools.fake_platform import fake_platform_app
from careflow.http.serving import ThreadedServer, free_port
from tests.activities.adapters.support import TOKEN, Fake


@pytest.fixture(scope="module")
def server() -> Iterator[Fake]:
    app = fake_platform_app((TOKEN,))
    running = ThreadedServer(app, free_port(), "fake-platform", "critical").start()
    try:
        yield Fake(running.url)
    finally:
        running.stop()


@pytest.fixture
def fake(server: Fake) -> Fake:
    server.clear()
    return server
