"""``careflow doctor`` against the fake platform: one line per credential, no secrets, exit 1
when a configured credential fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from careflow.devtools.fake_platform import fake_platform_app
from careflow.http.serving import ThreadedServer, free_port
from tests.cli.test_commands import careflow

TOKEN = "doctor-good-token-0123456789"
BAD = "doctor-bad-token-0123456789"
SEED = "doctor-refresh-seed-0123456789"


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    running = ThreadedServer(fake_platform_app((TOKEN,)), free_port(), "fake", "critical").start()
    try:
        yield running.url
    finally:
        running.stop()


def platform(fake: str, home: Path, **variables: str) -> dict[str, str]:
    return {
        "CAREFLOW_HOME": str(home),
        "CAREFLOW_X_API_BASE": fake,
        "CAREFLOW_META_GRAPH_BASE": f"{fake}/v21.0",
        **variables,
    }


def test_good_credentials_say_whose_they_are(fake: str, tmp_path: Path) -> None:
    variables = platform(
        fake, tmp_path, CAREFLOW_X_BEARER_TOKEN=TOKEN, CAREFLOW_META_PAGE_TOKEN=TOKEN
    )
    result = careflow("doctor", **variables)
    assert result.returncode == 0, result
    x, meta = result.stdout.splitlines()
    assert x.startswith("ok") and "@acme" in x and "CAREFLOW_X_BEARER_TOKEN" in x
    assert meta.startswith("ok") and "Acme" in meta
    assert TOKEN not in result.stdout + result.stderr


def test_a_bad_credential_fails_the_command(fake: str, tmp_path: Path) -> None:
    variables = platform(
        fake, tmp_path, CAREFLOW_X_BEARER_TOKEN=TOKEN, CAREFLOW_META_PAGE_TOKEN=BAD
    )
    result = careflow("doctor", **variables)
    assert result.returncode == 1, result
    x, meta = result.stdout.splitlines()
    assert x.startswith("ok")
    assert meta.startswith("FAILED") and "401" in meta and "CAREFLOW_META_PAGE_TOKEN" in meta
    assert BAD not in result.stdout + result.stderr


def test_unconfigured_credentials_are_listed_not_failed(tmp_path: Path) -> None:
    result = careflow("doctor", CAREFLOW_HOME=str(tmp_path))
    assert result.returncode == 0, result
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["-", "-"]


def test_a_refresh_token_is_used_and_rotated_and_a_spent_one_fails(
    fake: str, tmp_path: Path
) -> None:
    httpx.post(f"{fake}/_fake/oauth", json={"refresh_token": SEED}).raise_for_status()
    variables = platform(
        fake,
        tmp_path / "one",
        CAREFLOW_X_CLIENT_ID="doctor-client",
        CAREFLOW_X_CLIENT_SECRET="doctor-client-secret",
        CAREFLOW_X_REFRESH_TOKEN=SEED,
    )
    result = careflow("doctor", **variables)
    assert result.returncode == 0, result
    assert "ok" in result.stdout and "refresh token" in result.stdout
    assert (tmp_path / "one" / "x-oauth.json").exists()
    again = careflow("doctor", **variables)  # the stored pair: no refresh needed
    assert again.returncode == 0, again

    elsewhere = careflow("doctor", **{**variables, "CAREFLOW_HOME": str(tmp_path / "two")})
    assert elsewhere.returncode == 1, elsewhere  # the seed was spent by the first home
    [x_line] = [line for line in elsewhere.stdout.splitlines() if " X " in f" {line} "]
    assert x_line.startswith("FAILED") and "invalid" in x_line
    for secret in (SEED, "doctor-client-secret"):
        assert secret not in result.stdout + result.stderr + elsewhere.stdout + elsewhere.stderr
