"""What the commands say before they serve anything, each run as a user runs it (its own
process, so the exit code and the absence of a traceback are the real ones): the version, a port
already taken (the message names the option that moves it), a Temporal profile that cannot work.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from careflow.http.serving import free_port
from tests.conftest import ROOT

CAREFLOW = [sys.executable, "-m", "careflow.cli.main"]
KEY = base64.b64encode(b"k" * 32).decode()
CODEC_TOKEN = "codec-token-0123456789abcdef"


def careflow(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``careflow args…`` with only these careflow and Temporal variables."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CAREFLOW_", "TEMPORAL_"))},
        "PYTHONPATH": str(ROOT),
        **variables,
    }
    return subprocess.run(
        [*CAREFLOW, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exit code 1 and said why in one ``error:`` line."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@contextmanager
def taken_port() -> Iterator[int]:
    """A port something listens on, for as long as the block runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_version_prints_the_installed_version() -> None:
    result = careflow("--version")
    assert result.returncode == 0
    assert result.stdout == f"careflow {version('careflow')}\n"


@pytest.mark.parametrize(
    ("flag", "what", "extra"),
    [
        ("--temporal-port", "Temporal gRPC", ()),
        ("--ui-port", "Web UI", ()),
        ("--api-port", "webhook intake", ()),
        ("--codec-port", "codec server", ()),
        ("--fake-port", "fake platform", ("--fake-platform",)),
    ],
)
def test_up_names_the_option_that_moves_a_taken_port(
    tmp_path: Path, flag: str, what: str, extra: tuple[str, ...]
) -> None:
    names = ("--temporal-port", "--ui-port", "--api-port", "--codec-port")
    ports = {f: str(free_port()) for f in names}
    ports["--fake-port"] = str(free_port())
    with taken_port() as port:
        ports[flag] = str(port)
        result = careflow(
            "up",
            *[item for pair in ports.items() for item in pair],
            *extra,
            CAREFLOW_HOME=str(tmp_path),
            # a profile for another cluster: `up` runs its own server and never reads it
            TEMPORAL_CONFIG_FILE=str(tmp_path / "missing.toml"),
            TEMPORAL_API_KEY="not-for-the-local-server",
        )
    assert one_error_line(result) == (
        f"error: port {port} ({what}) is already in use: pick another with {flag}"
    )
    assert not (tmp_path / "temporal.pid").exists()  # no server was started
    assert not (tmp_path / "encryption.key").exists()  # nor a key made


@pytest.mark.parametrize(
    ("command", "variables"),
    [
        ("api", {}),
        (
            "codec-server",
            {"CAREFLOW_ENCRYPTION_KEYS": f"k1={KEY}", "CAREFLOW_CODEC_TOKENS": CODEC_TOKEN},
        ),
        ("fake-platform", {}),
    ],
)
def test_servers_name_port_when_theirs_is_taken(command: str, variables: dict[str, str]) -> None:
    with taken_port() as port:
        result = careflow(command, "--port", str(port), **variables)
    assert (
        one_error_line(result) == f"error: port {port} is already in use: pick another with --port"
    )


def test_a_temporal_profile_that_cannot_work_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "localhost:7233"\n')
    unknown = careflow("queue", TEMPORAL_CONFIG_FILE=str(config), TEMPORAL_PROFILE="prod")
    assert one_error_line(unknown) == (
        f"error: TEMPORAL_PROFILE=prod: no such profile in TEMPORAL_CONFIG_FILE={config}"
    )
    missing_ca = tmp_path / "ca.pem"
    worker = careflow("worker", TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(missing_ca))
    assert one_error_line(worker) == (
        f"error: cannot read the server CA certificate {missing_ca} "
        "(TEMPORAL_TLS_SERVER_CA_CERT_PATH or the profile's tls.server_ca_cert_path): "
        "No such file or directory"
    )


def test_up_says_in_one_line_when_the_temporal_server_cannot_start(tmp_path: Path) -> None:
    (tmp_path / "temporal.db").mkdir()  # where the server's SQLite file should be
    ports = [f"--{name}-port" for name in ("temporal", "ui", "api")]
    result = careflow(
        "up",
        *[item for flag in ports for item in (flag, str(free_port()))],
        CAREFLOW_HOME=str(tmp_path),
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: the Temporal server exited (code 1) before it was ready")
    assert "stopped" in result.stdout  # and everything it had started is stopped again


def test_careflow_api_starts_says_what_is_off_and_answers(tmp_path: Path) -> None:
    """`careflow api` on its own (no Temporal, no secrets): it starts, names each webhook that
    answers 503 for want of its secret, and serves /health. (It once died at start reading a
    setting by its name from before the settings were split in parts.)"""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CAREFLOW_", "TEMPORAL_"))},
        "PYTHONPATH": str(ROOT),
        "CAREFLOW_HOME": str(tmp_path),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nothing there
    }
    process = subprocess.Popen(
        [*CAREFLOW, "api", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "careflow api never answered"
                time.sleep(0.2)
        assert answer.status_code == 503
        assert answer.json()["temporal_reachable"] is False
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert "Traceback" not in err
    assert f"webhook intake on http://127.0.0.1:{port}" in out
    for variable in ("CAREFLOW_WEBHOOK_SECRET", "CAREFLOW_X_CONSUMER_SECRET"):
        assert f"{variable} is not set" in err
