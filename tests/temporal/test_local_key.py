"""Private by default: the key ``careflow up`` makes in ``$CAREFLOW_HOME``, found by every other
process of that home, beaten by configured keys, and switched off by ``CAREFLOW_ENCRYPTION=off``
(which stops encrypting but still opens what the key sealed)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from stat import S_IMODE

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from careflow.errors import ConfigurationError
from careflow.settings import Settings
from careflow.temporal.codec import ENCODING, ensure_local_key, load_keys
from careflow.temporal.connection import Connection, encryption_summary
from careflow.temporal.intake import first_message
from tests.harness import careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, InquiryInput

TEXT = "my card ending 4242 was charged twice"
KEY = base64.b64encode(b"e" * 32).decode()


def clear() -> Payload:
    return pydantic_data_converter.payload_converter.to_payload({"text": TEXT})


def of_home(home: Path, **env: str) -> Settings:
    """The settings a careflow process started with ``CAREFLOW_HOME=home`` (and ``env``) reads."""
    return Settings.from_env({"CAREFLOW_HOME": str(home), **env}, temporal_profile=False)


def test_the_key_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    path = of_home(home).encryption.local_key
    assert path == home / "encryption.key"
    assert ensure_local_key(path) is True
    assert S_IMODE(path.stat().st_mode) == 0o600
    assert S_IMODE(home.stat().st_mode) == 0o700
    assert S_IMODE(home.parent.stat().st_mode) == 0o700  # careflow made it too
    text = path.read_text()
    assert ensure_local_key(path) is False  # the second start keeps it
    assert path.read_text() == text
    assert [p.name for p in home.iterdir()] == ["encryption.key"]  # no draft left behind
    [key] = load_keys(of_home(home).encryption)
    assert key.id.startswith("local-") and len(key.secret) == 32
    assert f"{key.id}=" in text and base64.b64encode(key.secret).decode() in text


def test_without_the_file_nothing_is_encrypted_and_nothing_is_made(tmp_path: Path) -> None:
    settings = of_home(tmp_path)
    assert load_keys(settings.encryption) == ()
    assert encryption_summary(settings.encryption).startswith("off (payloads are stored in clear")
    assert not (tmp_path / "encryption.key").exists()  # only `careflow up` makes it


def test_every_process_of_the_home_reads_what_the_worker_wrote(tmp_path: Path) -> None:
    """The worker and a second process (the CLI's ``status``) each build their ``Connection``
    from ``CAREFLOW_HOME`` alone: the history holds ciphertext, both read the text."""
    home = tmp_path / "home"
    ensure_local_key(home / "encryption.key")
    worker_side, cli_side = Connection.of(of_home(home)), Connection.of(of_home(home))
    summary = encryption_summary(of_home(home).encryption)
    assert summary.startswith("on, key local-")
    assert summary.endswith(f"(key file {home / 'encryption.key'}, made by careflow up)")

    async def scenario() -> tuple[bytes, str, str, str]:
        async with careflow(
            home, round_the_clock_pack(tmp_path), data_converter=worker_side.converter
        ) as h:
            inquiry = example("question", await h.now())
            handle = await h.env.client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=inquiry, search_attributes=False),
                id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                task_queue=h.settings.temporal.task_queue,
                start_signal="customer_message",
                start_signal_args=[first_message(inquiry)],
            )
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text="On it!")
            )
            cli = Client(h.env.client.service_client, data_converter=cli_side.converter)
            status = await cli.get_workflow_handle(handle.id).query(InquiryWorkflow.status)
            stranger = Connection.of(of_home(tmp_path / "elsewhere"))  # another home: no key
            foreign = Client(h.env.client.service_client, data_converter=stranger.converter)
            with pytest.raises(KeyError, match="binary/careflow-encrypted"):
                await foreign.get_workflow_handle(handle.id).query(InquiryWorkflow.status)
            history = await handle.fetch_history()
            read = status.inquiry.text, status.messages[-1].text
            stored = b"".join(event.SerializeToString() for event in history.events)
            return stored, inquiry.text, *read

    raw, posted, text, reply = asyncio.run(scenario())
    assert (text, reply) == (posted, "On it! ^Ana")
    assert b"careflow-encrypted" in raw
    assert b"hikerjules" not in raw and b"On it!" not in raw


def test_configured_keys_win_over_the_local_key(tmp_path: Path) -> None:
    ensure_local_key(tmp_path / "encryption.key")
    settings = of_home(tmp_path, CAREFLOW_ENCRYPTION_KEYS=f"k1={KEY}")
    assert [key.id for key in load_keys(settings.encryption)] == ["k1"]
    assert encryption_summary(settings.encryption) == "on, key k1 encrypts"


def test_switched_off_payloads_are_stored_in_clear_and_older_ones_still_open(
    tmp_path: Path,
) -> None:
    ensure_local_key(tmp_path / "encryption.key")
    sealed_by_up = Connection.of(of_home(tmp_path)).converter.payload_codec
    assert sealed_by_up is not None
    [sealed] = asyncio.run(sealed_by_up.encode([clear()]))
    assert sealed.metadata["encoding"] == ENCODING

    off = of_home(tmp_path, CAREFLOW_ENCRYPTION="off")
    codec = Connection.of(off).converter.payload_codec
    assert codec is not None
    [written] = asyncio.run(codec.encode([clear()]))
    assert written == clear() and TEXT.encode() in written.data  # in clear
    [opened] = asyncio.run(codec.decode([sealed]))
    assert opened == clear()  # what the key sealed before stays readable
    summary = encryption_summary(off.encryption)
    assert summary.startswith("off (CAREFLOW_ENCRYPTION=off: new payloads are stored in clear")
    assert "keys local-" in summary and "still decrypt older ones" in summary

    nothing = of_home(tmp_path / "fresh", CAREFLOW_ENCRYPTION="OFF")
    assert Connection.of(nothing).converter is pydantic_data_converter


def test_a_switch_that_is_neither_on_nor_off_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as error:
        of_home(tmp_path, CAREFLOW_ENCRYPTION="maybe")
    assert str(error.value) == (
        "CAREFLOW_ENCRYPTION is 'maybe': use on (the default) or off (store new payloads in clear)"
    )
