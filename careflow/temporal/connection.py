"""Connecting to Temporal: careflow's data converter (encryption), its telemetry plugins, and the
one-line error when Temporal is not there. Every process connects through ``connect``.
"""

from __future__ import annotations

from dataclasses import replace

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from careflow.errors import CareflowError, ConfigurationError
from careflow.settings import EncryptionSettings, Settings
from careflow.telemetry import TelemetryConfigError, telemetry
from careflow.temporal.codec import KeyConfigError, codec_from_settings, load_keys
from careflow.temporal.explain import explain_error


def data_converter(keys: EncryptionSettings) -> DataConverter:
    """careflow's data converter: the worker, the CLI, audit export and replay must agree.

    With encryption keys configured every payload is encrypted (``careflow.temporal.codec``),
    and so are failure messages, which may quote customer text.
    """
    try:
        codec = codec_from_settings(keys)
    except KeyConfigError as error:
        raise ConfigurationError(str(error)) from None
    if codec is None:
        return pydantic_data_converter
    return replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def encryption_summary(keys: EncryptionSettings) -> str:
    """What the logs and the banner say about encryption: key ids only, never keys."""
    try:
        ids = [key.id for key in load_keys(keys)]
    except KeyConfigError as error:
        return f"misconfigured: {error}"
    if not ids:
        return "off (payloads are stored in clear; see docs/encryption.md)"
    older = f", older keys {', '.join(ids[1:])} decrypt only" if ids[1:] else ""
    return f"on, key {ids[0]} encrypts{older}"


async def connect(settings: Settings) -> Client:
    """A client with careflow's data converter and plugins; unusable keys or exporters are a
    ``CareflowError``, which every command prints as one line."""
    try:
        converter = data_converter(settings.encryption)
        observed = telemetry(settings.telemetry)
    except TelemetryConfigError as error:
        raise ConfigurationError(str(error)) from None
    return await Client.connect(
        settings.temporal.address,
        namespace=settings.temporal.namespace,
        data_converter=converter,
        plugins=observed.plugins,  # workers built on this client get them too
        runtime=observed.runtime,
    )


async def open_client(settings: Settings) -> Client:
    """Connect, or say plainly that Temporal is not there."""
    try:
        return await connect(settings)
    except RuntimeError as error:
        message = explain_error(error, None, settings.temporal.address)
        raise CareflowError(message or str(error)) from error
