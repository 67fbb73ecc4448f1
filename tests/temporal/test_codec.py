"""Encryption at rest: the payload codec, its keys, and an inquiry whose history holds no customer
text when encryption is on, yet replays with the key (and only with it)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from careflow.audit.decrypt import decrypt_history
from careflow.audit.replay import ReplayOutcome, replay
from careflow.audit.report import fetch_report
from careflow.errors import ConfigurationError
from careflow.settings import EncryptionSettings, Settings
from careflow.temporal.codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    KeyConfigError,
    load_keys,
    parse_keys,
)
from careflow.temporal.connection import Connection, data_converter, encryption_summary
from careflow.temporal.intake import first_message, memo_of
from tests.harness import HISTORIES, careflow, example, round_the_clock_pack
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, InquiryInput, ResolveRequest

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(b"n" * 32).decode()
SECRET_TEXT = "my card ending 4242 was charged twice"


def run(coroutine):
    return asyncio.run(coroutine)


def clear(text: str = SECRET_TEXT) -> Payload:
    return pydantic_data_converter.payload_converter.to_payload({"text": text})


def codec(keys: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(keys, "test keys"))


def test_round_trip_hides_the_text_and_restores_the_payload() -> None:
    c = codec(f"k1={NEW}")
    [sealed] = run(c.encode([clear()]))
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"4242" not in sealed.SerializeToString()
    [again] = run(c.encode([clear()]))
    assert again.data != sealed.data  # a fresh nonce each time
    [opened] = run(c.decode([sealed]))
    assert opened == clear()


def test_after_rotation_the_new_key_encrypts_and_the_old_one_still_decrypts() -> None:
    [by_old] = run(codec(f"old={OLD}").encode([clear()]))
    rotated = codec(f"new={NEW},old={OLD}")
    assert run(rotated.decode([by_old])) == [clear()]
    [by_new] = run(rotated.encode([clear()]))
    assert by_new.metadata[KEY_ID] == b"new"
    with pytest.raises(CodecError, match="key id 'old', which is not configured"):
        run(codec(f"new={NEW}").decode([by_old]))


def test_tampered_ciphertext_fails_clearly() -> None:
    c = codec(f"k1={NEW},k0={OLD}")
    [sealed] = run(c.encode([clear()]))
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\x00")
    if flipped.data == sealed.data:
        flipped.data = sealed.data[:-1] + b"\x01"
    with pytest.raises(CodecError, match="key id 'k1' failed authentication: it was altered"):
        run(c.decode([flipped]))
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k0"}, data=sealed.data)
    with pytest.raises(CodecError, match="key id 'k0' failed authentication"):
        run(c.decode([relabelled]))
    truncated = Payload(metadata=dict(sealed.metadata), data=sealed.data[:5])
    with pytest.raises(CodecError, match="truncated"):
        run(c.decode([truncated]))


def test_payloads_written_before_encryption_pass_through() -> None:
    plain = clear()
    assert run(codec(f"k1={NEW}").decode([plain])) == [plain]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            f"k1={base64.b64encode(b'x' * 16).decode()}",
            "key 'k1' is 16 bytes; AES-256-GCM needs 32",
        ),
        ("k1=not*base64!", "key 'k1' is not valid base64"),
        (f"k1={NEW},k1={OLD}", "entry 2: key id 'k1' appears twice"),
        (NEW, "entry 1: expected ID=BASE64_KEY"),
        (f"has space={NEW}", "entry 1: the key id must be 1-32 letters"),
        (f"{NEW[:-1]}={OLD}", "entry 1: the key id must be"),  # a key where the id belongs
        (" , ", "holds no keys"),
    ],
)
def test_malformed_keys_are_one_line_without_the_key(keys: str, message: str) -> None:
    with pytest.raises(KeyConfigError) as raised:
        parse_keys(keys, "CAREFLOW_ENCRYPTION_KEYS")
    text = str(raised.value)
    assert message in text
    assert "\n" not in text
    for material in (NEW, NEW[:-1], OLD, "not*base64!", base64.b64encode(b"x" * 16).decode()):
        assert material not in text


def test_key_file_has_one_key_a_line_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# rotated 2026-11\n2026-11={NEW}  # current\n\n2026-05={OLD}\n")
    keys = load_keys(EncryptionSettings(key_file=str(path)))
    assert [key.id for key in keys] == ["2026-11", "2026-05"]
    assert NEW not in repr(keys)
    path.write_text(f"a={NEW}\nb=c2hvcnQ=\n")  # "short"
    with pytest.raises(KeyConfigError, match="keys:2: key 'b' is 5 bytes"):
        load_keys(EncryptionSettings(key_file=str(path)))
    with pytest.raises(KeyConfigError, match=r"cannot read .*missing: No such file"):
        load_keys(EncryptionSettings(key_file=str(tmp_path / "missing")))
    with pytest.raises(KeyConfigError, match="not both"):
        load_keys(EncryptionSettings(keys=f"a={NEW}", key_file=str(path)))


def test_settings_read_keys_and_tokens_and_never_show_them(monkeypatch) -> None:
    monkeypatch.setenv("CAREFLOW_ENCRYPTION_KEYS", f"k1={NEW}")
    monkeypatch.setenv("CAREFLOW_CODEC_TOKENS", " token-one-0123456789 , token-two-0123456789,")
    settings = Settings.from_env()
    assert settings.encryption.keys == f"k1={NEW}"
    assert settings.encryption.codec_tokens == ("token-one-0123456789", "token-two-0123456789")
    assert NEW not in repr(settings) and "token-one" not in repr(settings)


def test_data_converter_encrypts_only_when_keys_are_configured() -> None:
    assert data_converter(EncryptionSettings()) is pydantic_data_converter
    encrypted = data_converter(EncryptionSettings(keys=f"k1={NEW}"))
    assert isinstance(encrypted.payload_codec, EncryptionCodec)
    assert encrypted.payload_converter_class is pydantic_data_converter.payload_converter_class
    with pytest.raises(ConfigurationError, match="entry 1: key 'k1' is not valid base64"):
        data_converter(EncryptionSettings(keys="k1=???"))


# ----------------------------------------------------------------------------- histories


def raw_history(history: WorkflowHistory) -> bytes:
    """Every byte the server stores for the run's events."""
    return b"".join(event.SerializeToString() for event in history.events)


def test_the_byte_search_finds_customer_text_in_a_clear_history() -> None:
    """The check below means something: in a history recorded without encryption it finds the
    customer's private message."""
    recorded = json.loads((HISTORIES / "privatize-dm.json").read_text())
    history = WorkflowHistory.from_json("clear", recorded)
    assert b"sam@example.com" in raw_history(history)


def test_histories_recorded_in_clear_replay_with_encryption_on() -> None:
    converter = data_converter(EncryptionSettings(keys=f"k1={NEW}"))
    replayer = Replayer(workflows=[InquiryWorkflow], data_converter=converter)

    async def replay_all() -> dict[str, Exception]:
        histories = [
            WorkflowHistory.from_json(f"{f.parent.name}-{f.stem}", json.loads(f.read_text()))
            for f in sorted(HISTORIES.rglob("*.json"))
        ]

        async def each() -> AsyncIterator[WorkflowHistory]:
            for history in histories:
                yield history

        results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
        return {key: error for key, error in results.replay_failures.items() if error}

    assert run(replay_all()) == {}


def test_encrypted_history_holds_no_customer_text_and_replays_only_with_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    converter = data_converter(EncryptionSettings(keys=f"new={NEW},old={OLD}"))
    reply = "Hi Jules, size 44 is back in stock on Friday."
    private = "please hold a pair for me, jules.trail@example.com"

    async def scenario() -> tuple[WorkflowHistory, list[str]]:
        async with careflow(
            tmp_path, round_the_clock_pack(tmp_path), data_converter=converter
        ) as h:
            inquiry = example("question", await h.now())
            handle = await h.env.client.start_workflow(
                InquiryWorkflow.run,
                InquiryInput(inquiry=inquiry, search_attributes=False),
                id=f"inquiry-x-{uuid.uuid4().hex[:8]}",
                task_queue=h.settings.temporal.task_queue,
                start_signal="customer_message",
                start_signal_args=[first_message(inquiry)],
                memo=memo_of(inquiry),  # as the intake stores it: handle and text
            )
            await handle.execute_update(
                InquiryWorkflow.acknowledge, AcknowledgeRequest(agent="Ana", text=reply)
            )
            await h.say(handle, private)
            # With the key, everything reads as before (the rules may have answered already:
            # an email address in public earns a "send us a DM").
            status = await h.until(
                handle, lambda s: private in [m.text for m in s.messages if m.direction == "in"]
            )
            assert status.inquiry.text == inquiry.text
            await handle.execute_update(
                InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="answered")
            )
            await h.say(handle, "thanks, all good")
            result = await handle.result()
            assert result.reason == "customer confirmed the fix"
            report = await fetch_report(h.env.client, handle.id)  # `careflow audit report`
            assert (report.inquiry.text, report.inquiry.author.handle) == (
                inquiry.text,
                "hikerjules",
            )
            description = await handle.describe()
            assert description.memo is not None
            assert (await description.memo())["author"] == "hikerjules"
            keyless = Client(h.env.client.service_client, data_converter=pydantic_data_converter)
            with pytest.raises(
                KeyError, match="Unknown payload encoding binary/careflow-encrypted"
            ):
                await keyless.get_workflow_handle(handle.id).result()
            secrets = [inquiry.text, "hikerjules", "Jules", reply, f"{reply} ^Ana", private]
            return await handle.fetch_history(), secrets

    history, secrets = run(scenario())
    raw, as_json = raw_history(history), history.to_json()
    assert b"careflow-encrypted" in raw
    for secret in secrets:
        assert secret.encode() not in raw, secret
        assert secret not in as_json, secret
        assert secret not in caplog.text, secret

    assert converter.payload_codec is not None
    decrypted = run(decrypt_history(history, converter.payload_codec))  # export --decrypt
    for secret in secrets:  # clear again (base64 in the JSON, as the Temporal CLI writes it)
        assert secret.encode() in raw_history(decrypted), secret
    plain = Replayer(workflows=[InquiryWorkflow], data_converter=pydantic_data_converter)
    assert run(plain.replay_workflow(decrypted)).replay_failure is None

    with_key = Replayer(workflows=[InquiryWorkflow], data_converter=converter)
    assert run(with_key.replay_workflow(history)).replay_failure is None
    without_key = Replayer(workflows=[InquiryWorkflow], data_converter=pydantic_data_converter)
    failure = run(without_key.replay_workflow(history, raise_on_replay_failure=False))
    assert "Failed decoding arguments" in str(failure.replay_failure)

    async def audit_replay(settings: Settings) -> ReplayOutcome:  # `careflow audit replay`
        [outcome] = [outcome async for outcome in replay(Connection.of(settings), [history])]
        return outcome

    keyed = Settings(encryption=EncryptionSettings(keys=f"old={OLD},new={NEW}"))
    assert run(audit_replay(keyed)).clean
    keyless = run(audit_replay(Settings()))  # named as locked, not as failing or tampered
    assert (keyless.locked_by, keyless.error, keyless.tampered) == (["new"], None, [])


def test_codec_module_reads_no_environment(monkeypatch) -> None:
    """Settings.from_env is the one place the environment is read."""
    monkeypatch.setenv("CAREFLOW_ENCRYPTION_KEYS", f"k1={NEW}")
    assert load_keys(EncryptionSettings()) == ()
    assert os.environ["CAREFLOW_ENCRYPTION_KEYS"]  # still set: Settings() just did not look


def test_the_worker_log_names_key_ids_never_keys() -> None:
    summary = encryption_summary(EncryptionSettings(keys=f"new={NEW},old={OLD}"))
    assert summary == "on, key new encrypts, older keys old decrypt only"
    assert encryption_summary(EncryptionSettings()).startswith("off")
    broken = encryption_summary(EncryptionSettings(keys=f"k1={NEW[:20]}"))
    assert broken.startswith("misconfigured: CAREFLOW_ENCRYPTION_KEYS, entry 1: key 'k1'")
    assert NEW[:20] not in broken
