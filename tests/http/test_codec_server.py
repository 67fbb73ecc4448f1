"""`careflow codec-server`: Temporal's codec protocol for holders of a token, CORS for the Web UI,
and nothing worth stealing in its logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from careflow.http.codec_server import TokenConfigError, check_tokens, codec_app, peer_uid
from careflow.http.serving import ThreadedServer, free_port
from careflow.settings import EncryptionSettings, Settings, TemporalSettings
from careflow.temporal.codec import ENCODING, EncryptionCodec, parse_keys
from careflow.temporal.connection import data_converter
from careflow.temporal.worker import build_worker
from tests.conftest import ROOT
from tests.harness import DEV_SERVER, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, InquiryInput

KEY = base64.b64encode(b"k" * 32).decode()
TOKEN = "test-token-0123456789abcdef"
UI = "http://localhost:8233"
TEXT = "my card ending 4242 was charged twice"


def as_json(*payloads: Payload) -> dict[str, Any]:
    """A body as the temporal CLI and the Web UI send it."""
    return json_format.MessageToDict(Payloads(payloads=payloads))


def clear() -> Payload:
    return pydantic_data_converter.payload_converter.to_payload({"text": TEXT})


def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    app = codec_app(EncryptionCodec(parse_keys(f"k1={KEY}", "test")), [TOKEN], [UI])

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


BEARER = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}


def test_encode_then_decode_with_a_bearer_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    encoded = call("POST", "/encode", json=as_json(clear()), headers=BEARER)
    assert encoded.status_code == 200, encoded.text
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    assert "4242" not in base64.b64decode(sealed["data"]).decode(errors="replace")
    decoded = call("POST", "/default/decode", json=encoded.json(), headers=BEARER)
    assert decoded.status_code == 200, decoded.text
    [opened] = decoded.json()["payloads"]
    assert json.loads(base64.b64decode(opened["data"])) == {"text": TEXT}
    assert "decode 1 payloads (namespace default)" in caplog.text
    assert TOKEN not in caplog.text and TEXT not in caplog.text and KEY not in caplog.text


def test_the_web_ui_may_carry_the_token_in_the_path() -> None:
    decoded = call("POST", f"/{TOKEN}/decode", json=as_json(clear()))
    assert decoded.status_code == 200
    assert decoded.headers["content-type"] == "application/json"


def test_no_token_is_401_and_a_wrong_one_403_with_a_json_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = call("POST", "/decode", json=as_json(clear()))
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "authorization required" in missing.json()["error"]
    wrong = call("POST", "/decode", json=as_json(clear()), headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 403
    assert wrong.json() == {"error": "the token is not one of CAREFLOW_CODEC_TOKENS"}
    in_path = call("POST", "/not-the-token/decode", json=as_json(clear()))
    assert in_path.status_code == 403
    basic = call("POST", "/decode", json={}, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert "refused decode from 127.0.0.1: wrong token" in caplog.text
    assert TEXT not in missing.text + wrong.text


def test_bad_requests_are_400_with_a_reason() -> None:
    garbage = call("POST", "/decode", content=b"{not json", headers=BEARER)
    assert garbage.status_code == 400
    assert garbage.json() == {"error": "the body is not a Payloads message as JSON"}
    foreign = Payload(metadata={"encoding": ENCODING, "encryption-key-id": b"gone"}, data=b"x" * 40)
    unknown_key = call("POST", "/decode", json=as_json(foreign), headers=BEARER)
    assert unknown_key.status_code == 400
    assert "key id 'gone', which is not configured" in unknown_key.json()["error"]
    elsewhere = call("POST", "/status", json={}, headers=BEARER)
    assert elsewhere.status_code == 404


def test_cors_lets_the_web_ui_and_no_one_else_call_from_the_browser() -> None:
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    allowed = call("OPTIONS", "/decode", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "POST" in allowed.headers["access-control-allow-methods"]
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(allowed_headers.split(", "))
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = call("OPTIONS", "/decode", headers={**preflight, "Origin": "https://evil.example"})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    refused = call("POST", "/decode", json=as_json(clear()), headers={"Origin": UI})
    assert refused.status_code == 401  # the browser may read why
    assert refused.headers["access-control-allow-origin"] == UI


def test_tokens_must_be_set_and_long_enough() -> None:
    with pytest.raises(TokenConfigError, match="CAREFLOW_CODEC_TOKENS is not set"):
        check_tokens([])
    with pytest.raises(TokenConfigError) as short:
        check_tokens([TOKEN, "secret"])
    assert "token 2: 6 characters is too easy to guess" in str(short.value)
    assert "secret" not in str(short.value).replace("secrets", "")
    with pytest.raises(TokenConfigError, match="token 1: use only letters"):
        check_tokens(["with/slash-0123456789"])


def _codec_server(port: int, **env: str) -> subprocess.Popen[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CAREFLOW_", "TEMPORAL_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "careflow.cli.main", "codec-server", "--port", str(port)],
        cwd=ROOT,
        env={**keep, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_serving(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            httpx.post(f"http://127.0.0.1:{port}/decode", json={}, timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def _payloads_in(history_json: str) -> str:
    """The encodings and data of every payload in ``temporal workflow show -o json`` output,
    base64-decoded."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metadata"), dict) and "data" in node:
                found.append(base64.b64decode(node["metadata"].get("encoding", "")).decode())
                found.append(base64.b64decode(node["data"]).decode(errors="replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history_json))
    return "\n".join(found)


def _run(command: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}  # no codec
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_command_refuses_to_serve_without_tokens() -> None:
    process = _codec_server(free_port(), CAREFLOW_ENCRYPTION_KEYS=f"k1={KEY}")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert output.startswith("error: CAREFLOW_CODEC_TOKENS is not set")


def test_the_command_serves_over_http() -> None:
    port = free_port()
    process = _codec_server(
        port, CAREFLOW_ENCRYPTION_KEYS=f"k1={KEY}", CAREFLOW_CODEC_TOKENS=f"{TOKEN},other-{TOKEN}"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, port)
        headers = {"Authorization": f"Bearer other-{TOKEN}"}
        encoded = httpx.post(f"{url}/encode", json=as_json(clear()), headers=headers)
        decoded = httpx.post(f"{url}/decode", json=encoded.json(), headers=headers)
        [opened] = decoded.json()["payloads"]
        assert json.loads(base64.b64decode(opened["data"])) == {"text": TEXT}
        assert httpx.post(f"{url}/decode", json=encoded.json()).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert f"codec server on http://127.0.0.1:{port}  keys k1  2 token(s)" in output
    assert TOKEN not in output and KEY not in output and TEXT not in output


def test_the_temporal_cli_shows_encrypted_histories_through_the_codec_server(
    tmp_path: Path,
) -> None:
    """The real ``temporal workflow show``: ciphertext without the codec server, the customer's
    words with ``--codec-endpoint`` and ``--codec-auth``."""
    settings = Settings(
        rules=str(round_the_clock_pack(tmp_path)),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="codec-cli"),
        encryption=EncryptionSettings(keys=f"k1={KEY}"),
    )
    codec_port = free_port()
    server = _codec_server(
        codec_port, CAREFLOW_ENCRYPTION_KEYS=f"k1={KEY}", CAREFLOW_CODEC_TOKENS=TOKEN
    )

    async def scenario() -> tuple[str, str]:
        async with (
            await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(DEV_SERVER),
                data_converter=data_converter(settings.encryption),
            ) as env,
            build_worker(env.client, settings),
        ):
            inquiry = example("question", await env.get_current_time())
            handle = await env.client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=inquiry, search_attributes=False),
                id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                task_queue=settings.temporal.task_queue,
            )
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text="On it!")
            )
            show = [
                str(DEV_SERVER),
                "workflow",
                "show",
                "-w",
                handle.id,
                "--address",
                env.client.service_client.config.target_host,
                "-o",
                "json",
            ]
            codec = [
                "--codec-endpoint",
                f"http://127.0.0.1:{codec_port}",
                "--codec-auth",
                f"Bearer {TOKEN}",
            ]
            without = await asyncio.to_thread(_run, show)
            with_codec = await asyncio.to_thread(_run, show + codec)
            return without, with_codec

    try:
        wait_until_serving(server, codec_port)
        without, with_codec = asyncio.run(scenario())
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert "hikerjules" not in without
    clear_text, sealed = _payloads_in(with_codec), _payloads_in(without)
    assert "careflow-encrypted" in sealed and "careflow-encrypted" not in clear_text
    assert "trail boots" not in sealed and "hikerjules" not in sealed
    assert "trail boots in size 44" in clear_text and "hikerjules" in clear_text


def test_ups_own_codec_server_answers_only_its_users_programs_on_this_machine() -> None:
    """``careflow up``'s server (``owner``) on a real socket: the owner's program decodes; a
    connection the system says belongs to another user, or a request for another host name
    (DNS rebinding), is refused even with the token."""
    codec = EncryptionCodec(parse_keys(f"k1={KEY}", "test"))
    sealed = asyncio.run(codec.encode([clear()]))
    body = as_json(*sealed)
    for owner, host, status in (
        (os.getuid(), None, 200),
        (os.getuid() + 1, None, 403),
        (os.getuid(), "evil.example", 403),
    ):
        server = ThreadedServer(codec_app(codec, [TOKEN], [UI], owner=owner), free_port(), "t")
        server.start()
        try:
            headers = {"Host": host} if host else {}
            answer = httpx.post(f"{server.url}/{TOKEN}/decode", json=body, headers=headers)
        finally:
            server.stop()
        assert answer.status_code == status, answer.text
        if status == 200:
            [opened] = answer.json()["payloads"]
            assert json.loads(base64.b64decode(opened["data"])) == {"text": TEXT}
        else:
            assert TEXT not in answer.text and "error" in answer.json()


def test_the_owner_of_a_local_connection_is_read_from_the_system() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert peer_uid(client.getsockname(), listener.getsockname()) == os.getuid()
                assert peer_uid(("127.0.0.1", 1), listener.getsockname()) is None
