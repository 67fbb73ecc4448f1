"""Connecting to Temporal: careflow's data converter (encryption), its telemetry plugins, the
connection's address, namespace, TLS and API key (Temporal's own ``TEMPORAL_*`` conventions), and
the one-line error when Temporal is not there. Each process builds one ``Connection`` and every
client it opens connects through ``connect``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConnectConfig
from temporalio.service import TLSConfig

from careflow.errors import CareflowError, ConfigurationError
from careflow.settings import ENCRYPTION_SWITCH, EncryptionSettings, Settings, TemporalSettings
from careflow.telemetry import Telemetry, TelemetryConfigError, telemetry
from careflow.temporal.codec import (
    KeyConfigError,
    codec_from_settings,
    key_source,
    load_keys,
    local_key_in_use,
)
from careflow.temporal.explain import explain_error


def data_converter(keys: EncryptionSettings) -> DataConverter:
    """careflow's data converter: the worker, the CLI, audit export and replay must agree.

    With encryption keys configured, or the home's own key, every payload is encrypted
    (``careflow.temporal.codec``), and so are failure messages, which may quote customer text.
    With encryption switched off the keys only decrypt, and failures are written in clear.
    """
    try:
        codec = codec_from_settings(keys)
    except KeyConfigError as error:
        raise ConfigurationError(str(error)) from None
    if codec is None:
        return pydantic_data_converter
    if not codec.encrypting:
        return replace(pydantic_data_converter, payload_codec=codec)
    return replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def encryption_summary(keys: EncryptionSettings) -> str:
    """What the logs and the banner say about encryption: key ids and where the keys are,
    never keys."""
    try:
        ids = [key.id for key in load_keys(keys)]
    except KeyConfigError as error:
        return f"misconfigured: {error}"
    local = local_key_in_use(keys)
    if not keys.enabled:
        kept = f"; keys {', '.join(ids)} still decrypt older ones" if ids else ""
        return f"off ({ENCRYPTION_SWITCH}=off: new payloads are stored in clear{kept})"
    if not ids:
        return "off (payloads are stored in clear; see docs/encryption.md)"
    older = f", older keys {', '.join(ids[1:])} decrypt only" if ids[1:] else ""
    where = f" (key file {key_source(keys)})" if local is not None else ""
    return f"on, key {ids[0]} encrypts{older}{where}"


TLS_SOURCES = {  # ClientConfigTLS field: what it is, and <X> of TEMPORAL_TLS_<X>_PATH
    "server_root_ca_cert": ("server CA certificate", "SERVER_CA_CERT"),
    "client_cert": ("client certificate", "CLIENT_CERT"),
    "client_private_key": ("client key", "CLIENT_KEY"),
}


def connect_config(temporal: TemporalSettings) -> ClientConnectConfig:
    """``Client.connect``'s arguments, made by ``temporalio.envconfig``; it reads the TLS files,
    and one that cannot be read is one line naming the file and its variable."""
    try:
        return temporal.profile().to_client_connect_config()
    except OSError as error:
        what, key = "TLS file", "*"
        for name, described in TLS_SOURCES.items():
            if str(getattr(temporal.tls, name, None)) == error.filename:
                what, key = described
        raise ConfigurationError(
            f"cannot read the {what} {error.filename} (TEMPORAL_TLS_{key}_PATH or the "
            f"profile's tls.{key.lower()}_path): {error.strerror}"
        ) from None


def security_summary(config: ClientConnectConfig) -> str:
    """What the logs say about how the connection is secured: never the key itself."""
    tls = config.get("tls", False)
    parts = ["plaintext" if not tls else "TLS"]
    if isinstance(tls, TLSConfig) and tls.client_cert is not None:
        parts = ["mTLS"]
    if "api_key" in config:
        parts.append("API key")
    return ", ".join(parts)


@dataclass(frozen=True)
class Connection:
    """What this process's clients, worker and Replayer are built with, built once: the data
    converter, the telemetry plugins and ``Client.connect``'s arguments (they hold the API key,
    so they stay out of ``repr()``). Making one says now, in one line, what cannot work."""

    temporal: TemporalSettings
    converter: DataConverter
    observed: Telemetry
    config: ClientConnectConfig = field(repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Connection:
        """Raises ``ConfigurationError`` on unusable keys, exporters or TLS files."""
        try:
            observed = telemetry(settings.telemetry)
        except TelemetryConfigError as error:
            raise ConfigurationError(str(error)) from None
        return cls(
            temporal=settings.temporal,
            converter=data_converter(settings.encryption),
            observed=observed,
            config=connect_config(settings.temporal),
        )

    @property
    def security(self) -> str:
        return security_summary(self.config)


async def connect(connection: Connection) -> Client:
    """A client with careflow's data converter and plugins, connected as configured."""
    return await Client.connect(
        **connection.config,
        data_converter=connection.converter,
        plugins=connection.observed.plugins,  # workers built on this client get them too
        runtime=connection.observed.runtime,
    )


# The TLS library's words in a failed connect, and what to do about each.
TLS_HINTS = {
    "InvalidCertificate(UnknownIssuer)": "its certificate is signed by a CA careflow does not "
    "trust: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to that CA's certificate",
    "NotValidForName": "its certificate is for another name: set TEMPORAL_TLS_SERVER_NAME to it",
    "InvalidCertificate(Expired": "its certificate has expired",
    "InvalidContentType": "it does not speak TLS: unset TEMPORAL_TLS, TEMPORAL_TLS_* and "
    "TEMPORAL_API_KEY, or fix TEMPORAL_ADDRESS",
}


def tls_failure(error: RuntimeError, connection: Connection) -> str | None:
    """The one-line meaning of a connect that failed on TLS, or None: the SDK's own message
    is a Rust debug dump, and "cannot reach" would send the reader to the wrong place."""
    text = str(error)
    hint = next((hint for words, hint in TLS_HINTS.items() if words in text), None)
    dropped = "transport error" in text or "connection closed" in text  # the close races
    if hint is None and "after connection" in text and dropped:
        hint = (  # it took the TCP connection, then dropped it
            "it closed the TLS connection: does it require a client certificate "
            "(TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)?"
            if connection.config.get("tls")
            else "it closed the connection: does it expect TLS (TEMPORAL_TLS=true, or "
            "TEMPORAL_API_KEY for Temporal Cloud)?"
        )
    return (
        None
        if hint is None
        else f"cannot connect to Temporal at {connection.temporal.address}: {hint}"
    )


async def open_client(connection: Connection) -> Client:
    """Connect, or say plainly that Temporal is not there, or why TLS failed."""
    try:
        return await connect(connection)
    except RuntimeError as error:
        message = tls_failure(error, connection) or explain_error(
            error, None, connection.temporal.address
        )
        raise CareflowError(message or str(error)) from error
