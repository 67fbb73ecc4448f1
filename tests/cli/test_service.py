"""`careflow up` and the inquiry commands as a user runs them, each in its own process.

One embedded Temporal server on free ports, state under the test's directory: submit, the
firehose filter, a duplicate delivery, status, an agent reply, a rejected action, the queue; then
Ctrl-C must stop everything (no `temporal` left behind) and a restart must find the inquiry again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from stat import S_IMODE
from typing import Any

import httpx

from careflow.http.serving import free_port
from tests.conftest import DEFAULT_PACK, EXAMPLES, ROOT
from tests.harness import DEV_SERVER

CAREFLOW = [sys.executable, "-m", "careflow.cli.main"]
QUESTION_ID = "inquiry-x-1860000000000000014"
WEBHOOK_SECRET = "test-webhook-secret"
SPAM_ID = "inquiry-x-1860000000000000001"
STATUS_KEYS = {"step", "category", "priority", "queue", "privatize", "fired", "clocks"}


class Service:
    """A `careflow up` child process and the environment its commands share."""

    def __init__(self, home: Path, rules: Path, *extra: str, **env: str) -> None:
        self.home, self.rules, self.extra = home, rules, extra
        self.port, self.ui_port, self.api_port = free_port(), free_port(), free_port()
        self.codec_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CAREFLOW_", "TEMPORAL_"))},
            "PYTHONPATH": str(ROOT),
            "CAREFLOW_HOME": str(home),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.port}",
            "CAREFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.server_pid = 0

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.out = self.home / "up.out"
        with self.out.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *CAREFLOW,
                    "up",
                    "--rules",
                    str(self.rules),
                    "--temporal-port",
                    str(self.port),
                    "--ui-port",
                    str(self.ui_port),
                    "--api-port",
                    str(self.api_port),
                    "--codec-port",
                    str(self.codec_port),
                    *self.extra,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "careflow is up" not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)
        self.server_pid = int((self.home / "temporal.pid").read_text())

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def interrupt(self) -> tuple[int, float]:
        """Ctrl-C; the exit code and how long the shutdown took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        return code, time.monotonic() - started

    def kill_leftovers(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.server_pid and alive(self.server_pid):
            os.killpg(self.server_pid, signal.SIGKILL)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CAREFLOW, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert "Fatal Python error" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def status(self, inquiry_id: str) -> dict[str, Any]:
        """`status --json`, once the workflow has loaded its rules."""
        deadline = time.monotonic() + 20
        while True:
            result = self.run("status", inquiry_id, "--json")
            if result.returncode == 0:
                return dict(json.loads(result.stdout))
            assert "still starting" in result.stderr, result.stderr
            assert time.monotonic() < deadline, result.stderr
            time.sleep(0.2)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@contextmanager
def service(home: Path, rules: Path, *extra: str, **env: str) -> Iterator[Service]:
    running = Service(home, rules, *extra, **env)
    try:
        running.start()
        yield running
    finally:
        running.kill_leftovers()


def wait_for_queue(svc: Service, inquiry_id: str) -> dict[str, Any]:
    """The inquiry's queue row, once visibility has indexed its search attributes."""
    deadline = time.monotonic() + 20
    while True:
        rows = json.loads(svc.ok("queue", "--json"))
        mine = [row for row in rows if row["id"] == inquiry_id]
        if mine and mine[0]["step"] == "resolve" and mine[0]["next_due"]:
            assert len(mine) == 1
            return dict(mine[0])
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)


def test_up_submit_act_stop_and_restart(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT_PACK, rules)
    home = tmp_path / "home"
    question = str(EXAMPLES / "question.json")

    with service(home, rules) as svc:
        assert f"http://localhost:{svc.ui_port}" in svc.output()
        assert f"127.0.0.1:{svc.port}" in svc.output()

        # Intake: a workflow per conversation; spam is dropped at the door.
        assert svc.ok("submit", question, "--now").strip() == QUESTION_ID
        dropped = svc.ok("submit", str(EXAMPLES / "spam-giveaway.json"), "--now")
        assert dropped.strip() == "dropped: spam (rule drop-giveaway-spam)"
        missing = svc.run("status", SPAM_ID)
        assert missing.returncode == 1
        assert missing.stderr == f"error: no inquiry with id {SPAM_ID}\n"

        # The same post delivered twice reaches the same workflow, is said to be a redelivery,
        # and is recorded once.
        redelivered = svc.ok("submit", question, "--now").strip()
        assert redelivered == f"{QUESTION_ID} (a redelivery: the inquiry already has this post)"
        status = svc.status(QUESTION_ID)
        assert STATUS_KEYS | {"messages", "timeline"} <= status.keys()
        assert status["step"] == "acknowledge"
        assert status["category"] == "general"
        assert status["runs"] == 1
        assert status["duplicate_deliveries"] >= 1
        assert [
            m for m in status["messages"] if m["direction"] == "in" and m["kind"] != "post"
        ] == []
        clock = status["clocks"]["acknowledge"]
        assert {"internal_due", "published_due", "internal", "published"} <= clock.keys()
        assert status["timeline"][0]["event"] == "received"
        assert {"at", "event", "detail"} <= status["timeline"][0].keys()

        # An agent replies, signed; the outbox has it.
        reply = svc.ok("reply", QUESTION_ID, "--agent", "Ana", "--text", "hi")
        assert "sent: hi ^Ana" in reply
        sent = [json.loads(line) for line in (home / "outbox.jsonl").read_text().splitlines()]
        # Customers' words and the server's log are for the owner's eyes only.
        assert S_IMODE((home / "outbox.jsonl").stat().st_mode) == 0o600
        assert S_IMODE((home / "temporal.log").stat().st_mode) == 0o600
        for state in home.glob("temporal.*"):  # the database, its journals, the pid file
            assert S_IMODE(state.stat().st_mode) == 0o600, state.name
        assert [e["text"] for e in sent if e["kind"] == "reply"] == ["hi ^Ana"]
        assert "hi ^Ana" in svc.ok("outbox")
        status = svc.status(QUESTION_ID)
        assert status["step"] == "resolve"
        out = status["messages"][-1]
        assert {"at", "direction", "private", "text", "by"} <= out.keys()
        assert (out["direction"], out["text"], out["by"]) == ("out", "hi ^Ana", "Ana")

        # A rejected action says why and exits 1.
        rejected = svc.run("resolve", QUESTION_ID, "--agent", "Ana", "--code", "")
        assert rejected.returncode == 1
        assert (
            rejected.stderr == "error: a resolution code is required, e.g. refunded or replaced\n"
        )

        # The webhook intake runs too: a signed delivery starts an inquiry, a forged one nothing.
        post = json.loads((EXAMPLES / "warranty.json").read_text())
        body = json.dumps({**post, "created_at": datetime.now(UTC).isoformat()}).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        url = f"http://127.0.0.1:{svc.api_port}/webhooks/generic"
        forged = httpx.post(url, content=body, headers={"X-Careflow-Signature": "sha256=00"})
        assert forged.status_code == 401
        signed = httpx.post(
            url, content=body, headers={"X-Careflow-Signature": f"sha256={signature}"}
        )
        assert signed.status_code == 200, signed.text
        webhook_id = f"inquiry-{post['channel']}-{post['conversation_id']}"
        assert signed.json()["started"] == [webhook_id]
        assert svc.status(webhook_id)["category"] == "warranty"

        # The queue lists it with its next deadline; the search attributes are registered.
        row = wait_for_queue(svc, QUESTION_ID)
        assert (row["author"], row["category"], row["agent"]) == ("hikerjules", "general", "Ana")
        assert "already there" in svc.ok("setup")

        # Ctrl-C: the worker stops, then the server; nothing is left running.
        code, took = svc.interrupt()
        assert code == 0, svc.output()
        assert took < 30
        assert "stopped" in svc.output()
        assert not alive(svc.server_pid)
        assert group_members(svc.server_pid) == []

    # The inquiry survives a restart on the same home.
    with service(home, rules) as again:
        status = again.status(QUESTION_ID)
        assert status["step"] == "resolve"
        assert status["messages"][-1]["text"] == "hi ^Ana"
        code, _ = again.interrupt()
        assert code == 0
        assert not alive(again.server_pid)


def test_up_with_the_fake_platform_answers_customers_there(tmp_path: Path) -> None:
    """`careflow up --fake-platform` (what `make run` uses): a customer's tweet reaches the
    intake as X's signed webhook, and an agent's acknowledgement through the agent API lands on
    the fake X as a reply."""
    rules = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT_PACK, rules)
    fake_port = free_port()
    fake = f"http://127.0.0.1:{fake_port}"
    with service(tmp_path / "home", rules, "--fake-platform", "--fake-port", str(fake_port)) as svc:
        assert f"{fake}/_fake/ " in svc.output() and "/_fake/posts" in svc.output()
        api = f"http://127.0.0.1:{svc.api_port}"
        assert "SwaggerUIBundle" in httpx.get(f"{api}/docs").text
        post = {
            "channel": "x",
            "author": {"id": "40014", "handle": "hikerjules"},
            "text": "@acme do you have the trail boots in size 44?",
        }
        sent = httpx.post(f"{fake}/_fake/webhooks", json=post, timeout=30).json()
        assert sent["intake_status"] == 200, sent
        (wid,) = sent["intake"]["started"]
        assert svc.status(wid)["step"] == "acknowledge"

        tokens = (tmp_path / "home" / "api-tokens").read_text()
        agent = next(line.split("=")[0] for line in tokens.splitlines() if "=agent:" in line)
        ack = httpx.post(
            f"{api}/inquiries/{wid}/ack",
            headers={"Authorization": f"Bearer {agent}"},
            json={"text": "Checking the stock now"},
            timeout=60,
        )
        assert ack.status_code == 200, ack.text
        tweets = [p for p in httpx.get(f"{fake}/_fake/posts").json() if p["kind"] == "tweet"]
        assert [(t["text"], t["in_reply_to"]) for t in tweets] == [
            ("Checking the stock now ^Ana", sent["id"])
        ]
        code, _ = svc.interrupt()
        assert code == 0, svc.output()
        assert not alive(svc.server_pid)
        assert group_members(svc.server_pid) == []


def server_arguments(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def stored_payloads(svc: Service, workflow_id: str) -> list[dict[str, Any]]:
    """Every payload of the workflow's history as the Temporal server keeps it (`temporal
    workflow show -o json`, no codec)."""
    address = f"127.0.0.1:{svc.port}"
    shown = subprocess.run(
        [
            str(DEV_SERVER),
            "workflow",
            "show",
            "-w",
            workflow_id,
            "-o",
            "json",
            "--address",
            address,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")},
    )
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metadata"), dict) and "data" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(shown.stdout))
    assert found
    return found


def b64(text: str) -> str:
    return base64.b64decode(text).decode(errors="replace")


def readable(payloads: list[dict[str, Any]]) -> str:
    return "\n".join(b64(p.get("data", "")) for p in payloads)  # an empty one has no data


def test_up_encrypts_with_its_own_key_and_its_web_ui_decodes(tmp_path: Path) -> None:
    """First start: a private key in the home, the server stores ciphertext, the CLI (another
    process) reads the text, and the Web UI's codec endpoint decodes for the UI's origin. A
    restart keeps the key, so the inquiry still reads."""
    rules = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT_PACK, rules)
    home = tmp_path / "home"
    key = home / "encryption.key"
    with service(home, rules) as svc:
        assert S_IMODE(key.stat().st_mode) == 0o600
        key_text = key.read_text()
        [line] = [line for line in key_text.splitlines() if not line.startswith("#")]
        key_id = line.split("=", 1)[0]
        assert f"encryption     on, key {key_id} encrypts (key file {key}" in svc.output()
        codec_url = f"http://127.0.0.1:{svc.codec_port}"
        assert f"codec server   {codec_url}" in svc.output()

        assert svc.ok("submit", str(EXAMPLES / "question.json"), "--now").strip() == QUESTION_ID
        status = svc.status(QUESTION_ID)  # another process, no key given: it finds the home's
        assert status["messages"][0]["text"].startswith("@acme do you have the trail boots")
        stored = stored_payloads(svc, QUESTION_ID)
        assert "trail boots" not in readable(stored) and "hikerjules" not in readable(stored)
        sealed = [
            p for p in stored if b64(p["metadata"]["encoding"]) == "binary/careflow-encrypted"
        ]
        # In clear: search attributes (their type in the metadata) and the SDK's patch markers.
        clear = [p for p in stored if p not in sealed and "type" not in p["metadata"]]
        assert sealed
        assert all(json.loads(b64(p["data"])).keys() == {"id", "deprecated"} for p in clear)
        # CareCustomer is the keyed hash under the key `up` made: no X user id in visibility.
        assert S_IMODE((home / "customer.key").stat().st_mode) == 0o600
        attributes = readable([p for p in stored if "type" in p["metadata"]])
        assert "x:h:" in attributes and "40014" not in attributes

        # The Web UI is told where to decode, and can: preflight from its origin, then /decode.
        arguments = server_arguments(svc.server_pid)
        endpoint = arguments[arguments.index("--ui-codec-endpoint") + 1]
        assert endpoint.startswith(f"{codec_url}/")
        ui = f"http://localhost:{svc.ui_port}"
        settings = httpx.get(f"http://127.0.0.1:{svc.ui_port}/api/v1/settings").json()
        assert settings["Codec"]["Endpoint"] == endpoint  # what the browser fetches
        preflight = httpx.options(
            f"{endpoint}/decode",
            headers={
                "Origin": ui,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == ui
        decoded = httpx.post(
            f"{endpoint}/decode",
            json={"payloads": stored},
            headers={"Origin": ui, "X-Namespace": "default"},
        )
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["access-control-allow-origin"] == ui
        assert "trail boots" in readable(decoded.json()["payloads"])
        tokenless = httpx.post(f"{codec_url}/decode", json={"payloads": stored})
        assert tokenless.status_code == 401 and "trail boots" not in tokenless.text
        assert endpoint.rsplit("/", 1)[1] not in svc.output()  # the token is never printed

        code, _ = svc.interrupt()
        assert code == 0, svc.output()

    with service(home, rules) as again:
        assert key.read_text() == key_text  # the same key, not a new one
        assert again.status(QUESTION_ID)["messages"][0]["text"].startswith("@acme do you have")
        code, _ = again.interrupt()
        assert code == 0, again.output()


def test_up_with_encryption_switched_off_stores_text_in_clear(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(DEFAULT_PACK, rules)
    home = tmp_path / "home"
    with service(home, rules, CAREFLOW_ENCRYPTION="off") as svc:
        assert not (home / "encryption.key").exists()
        assert "encryption     off (CAREFLOW_ENCRYPTION=off: new payloads are stored in clear)" in (
            svc.output()
        )
        assert "codec server" not in svc.output()
        assert "--ui-codec-endpoint" not in server_arguments(svc.server_pid)
        assert svc.ok("submit", str(EXAMPLES / "question.json"), "--now").strip() == QUESTION_ID
        assert svc.status(QUESTION_ID)["step"] == "acknowledge"
        assert "trail boots" in readable(stored_payloads(svc, QUESTION_ID))
        code, _ = svc.interrupt()
        assert code == 0, svc.output()
