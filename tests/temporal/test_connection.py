"""Connections by Temporal's own conventions: ``TEMPORAL_*`` variables and TOML profiles
(``temporalio.envconfig``), TLS and mTLS for real, and one line for every way it can be wrong.

The pinned CLI's dev server (``temporal server start-dev``) has no TLS options, so the TLS tests
put a TLS-terminating proxy (Python's ``ssl``, ALPN h2, with or without client certificates) in
front of a plaintext Temporal test server: the handshake careflow's client makes is the real
one, with certificates this module makes with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from careflow.errors import CareflowError, ConfigurationError
from careflow.settings import Settings, TemporalSettings
from careflow.temporal.connection import Connection, open_client, tls_failure
from tests.harness import TEST_SERVER

API_KEY = "cloud-api-key-do-not-print"


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate."""

    ca: Path
    server: Path
    server_key: Path
    client: Path
    client_key: Path


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None = None,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    """Self-signed (a CA) without ``issuer``, else signed by it for ``usage``."""
    now = datetime.now(UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = ("careflow test CA", ca_key)
    server = _certificate("localhost", server_key, ca, ExtendedKeyUsageOID.SERVER_AUTH)
    client = _certificate("careflow worker", client_key, ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    return Certs(
        ca=_write(folder / "ca.pem", _certificate(ca[0], ca_key), ca_key),
        server=_write(folder / "server.pem", server, server_key),
        server_key=folder / "server.key",
        client=_write(folder / "client.pem", client, client_key),
        client_key=folder / "client.key",
    )


# --- a TLS Temporal -------------------------------------------------------------------------


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tls_temporal(certs: Certs, require_client_cert: bool) -> AsyncIterator[str]:
    """The address of a Temporal server (the test server, on a free port) reached only over TLS
    (and only with a client certificate our CA signed, if asked); both stop on exit."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server, certs.server_key)
    context.set_alpn_protocols(["h2"])  # gRPC
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs.ca)
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER)
    ) as env:
        host, port = env.client.service_client.config.target_host.rsplit(":", 1)

        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            backend_reader, backend_writer = await asyncio.open_connection(host, int(port))
            await asyncio.gather(_pipe(reader, backend_writer), _pipe(backend_reader, writer))

        proxy = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)  # a free port
        try:
            yield f"127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
        finally:
            proxy.close()


async def _connect_and_start(env: dict[str, str]) -> str:
    """Connect as every careflow command does, from these variables only, and make a real call
    (start a workflow) over the connection."""
    client = await open_client(Connection.of(Settings.from_env(env)))
    handle = await client.start_workflow("Nothing", id="tls-probe", task_queue="tls-probe")
    await handle.terminate()
    return handle.id


def test_tls_from_the_variables_alone(certs: Certs) -> None:
    async def scenario() -> None:
        async with tls_temporal(certs, require_client_cert=False) as address:
            ca = {"TEMPORAL_ADDRESS": address, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca)}
            assert await _connect_and_start(ca) == "tls-probe"
            with pytest.raises(CareflowError) as untrusted:  # TLS, but not our CA
                await _connect_and_start({"TEMPORAL_ADDRESS": address, "TEMPORAL_TLS": "true"})
            assert str(untrusted.value) == (
                f"cannot connect to Temporal at {address}: its certificate is signed by a CA "
                "careflow does not trust: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to that CA's "
                "certificate"
            )
            with pytest.raises(CareflowError, match="does it expect TLS") as plain:
                await _connect_and_start({"TEMPORAL_ADDRESS": address})
            assert "\n" not in str(plain.value)

    asyncio.run(scenario())


def test_mtls_from_a_toml_profile(certs: Certs, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with tls_temporal(certs, require_client_cert=True) as address:
            config = tmp_path / "temporal.toml"
            config.write_text(
                f'[profile.prod]\naddress = "{address}"\nnamespace = "default"\n'
                f'[profile.prod.tls]\nserver_ca_cert_path = "{certs.ca}"\n'
                f'client_cert_path = "{certs.client}"\nclient_key_path = "{certs.client_key}"\n'
            )
            env = {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "prod"}
            assert await _connect_and_start(env) == "tls-probe"
            without_client_cert = {
                "TEMPORAL_ADDRESS": address,
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca),
            }
            with pytest.raises(CareflowError) as refused:
                await _connect_and_start(without_client_cert)
            assert str(refused.value) == (
                f"cannot connect to Temporal at {address}: it closed the TLS connection: does it "
                "require a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and "
                "TEMPORAL_TLS_CLIENT_KEY_PATH)?"
            )

    asyncio.run(scenario())


# --- what reaches Client.connect ------------------------------------------------------------


def test_temporal_cloud_by_api_key_and_variables() -> None:
    env = {
        "TEMPORAL_ADDRESS": "acme.a1b2c.tmprl.cloud:7233",
        "TEMPORAL_NAMESPACE": "acme.a1b2c",
        "TEMPORAL_API_KEY": API_KEY,
        "CAREFLOW_TASK_QUEUE": "care",
    }
    settings = Settings.from_env(env)
    connection = Connection.of(settings)
    assert connection.config == {
        "target_host": "acme.a1b2c.tmprl.cloud:7233",
        "namespace": "acme.a1b2c",
        "api_key": API_KEY,
        "tls": True,  # an API key implies TLS, as Temporal's tools do it
    }
    assert settings.temporal.task_queue == "care"
    assert connection.security == "TLS, API key"
    for shown in (repr(settings), repr(connection)):
        assert API_KEY not in shown


def test_a_profile_and_the_variables_over_it(certs: Certs, tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        '[profile.default]\naddress = "localhost:7233"\n'
        '[profile.staging]\naddress = "temporal.staging:7233"\nnamespace = "care"\n'
        f'[profile.staging.tls]\nserver_name = "temporal.internal"\n'
        f'server_ca_cert_path = "{certs.ca}"\n'
    )
    env = {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "staging"}
    tls = Connection.of(Settings.from_env(env)).config["tls"]
    assert isinstance(tls, TLSConfig)
    assert (tls.domain, tls.server_root_ca_cert) == ("temporal.internal", certs.ca.read_bytes())
    overridden = Settings.from_env(
        {
            **env,
            "TEMPORAL_NAMESPACE": "care-eu",
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certs.client),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certs.client_key),
        }
    )
    connection = Connection.of(overridden)
    assert (connection.config["target_host"], connection.config["namespace"]) == (
        "temporal.staging:7233",
        "care-eu",
    )
    assert connection.security == "mTLS"
    assert Connection.of(Settings.from_env({})).config == {
        "target_host": "localhost:7233",
        "namespace": "default",
    }


def test_settings_made_directly_connect_in_plaintext() -> None:
    """``careflow up`` and the tests make TemporalSettings themselves: no TLS, no API key."""
    connection = Connection.of(Settings(temporal=TemporalSettings(address="127.0.0.1:7999")))
    assert connection.config == {"target_host": "127.0.0.1:7999", "namespace": "default"}
    assert connection.security == "plaintext"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"TEMPORAL_CONFIG_FILE": "{tmp}/missing.toml"},
            "TEMPORAL_CONFIG_FILE={tmp}/missing.toml: no such file",
        ),
        (
            {"TEMPORAL_CONFIG_FILE": "{tmp}/broken.toml"},
            "TEMPORAL_CONFIG_FILE={tmp}/broken.toml: Configuration loading error: TOML parse "
            "error at line 1, column 17: unclosed table, expected `]`",
        ),
        (
            {"TEMPORAL_CONFIG_FILE": "{tmp}/good.toml", "TEMPORAL_PROFILE": "prod"},
            "TEMPORAL_PROFILE=prod: no such profile in TEMPORAL_CONFIG_FILE={tmp}/good.toml",
        ),
    ],
)
def test_a_profile_that_cannot_be_read_is_one_line(
    tmp_path: Path, variables: dict[str, str], expected: str
) -> None:
    (tmp_path / "broken.toml").write_text("[profile.default\n")
    (tmp_path / "good.toml").write_text('[profile.default]\naddress = "localhost:7233"\n')
    env = {name: value.format(tmp=tmp_path) for name, value in variables.items()}
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == expected.format(tmp=tmp_path)


def test_an_unreadable_tls_file_is_one_line_naming_its_variable(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    settings = Settings.from_env({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(missing)})
    with pytest.raises(ConfigurationError) as raised:
        Connection.of(settings)
    assert str(raised.value) == (
        f"cannot read the server CA certificate {missing} (TEMPORAL_TLS_SERVER_CA_CERT_PATH or "
        "the profile's tls.server_ca_cert_path): No such file or directory"
    )


def test_up_reads_no_temporal_profile(tmp_path: Path) -> None:
    """``careflow up`` runs its own server: a profile meant for another cluster is not read."""
    env = {"TEMPORAL_CONFIG_FILE": str(tmp_path / "missing.toml"), "TEMPORAL_API_KEY": API_KEY}
    settings = Settings.from_env(env, temporal_profile=False)
    assert settings.temporal == TemporalSettings()


# The SDK's words when a server that wants a client certificate drops the connection: which
# one comes depends on how the close races the first call (both seen on this machine).
DROPPED_AFTER_HANDSHAKE = [
    "Failed client connect: `get_system_info` call error after connection: Status { code: "
    'Unknown, message: "transport error", source: Some(tonic::transport::Error(Transport, '
    'hyper::Error(Io, Custom { kind: UnexpectedEof, error: "peer closed connection without '
    'sending TLS close_notify" }))) }',
    "Failed client connect: `get_system_info` call error after connection: Status { code: "
    'Cancelled, message: "operation was canceled", source: Some(tonic::transport::Error('
    'Transport, hyper::Error(Canceled, "connection closed"))) }',
]


@pytest.mark.parametrize("raw", DROPPED_AFTER_HANDSHAKE, ids=["eof", "canceled"])
def test_a_dropped_tls_connection_asks_for_a_client_certificate(certs: Certs, raw: str) -> None:
    env = {"TEMPORAL_ADDRESS": "127.0.0.1:7233", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca)}
    connection = Connection.of(Settings.from_env(env))
    assert tls_failure(RuntimeError(raw), connection) == (
        "cannot connect to Temporal at 127.0.0.1:7233: it closed the TLS connection: does it "
        "require a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and "
        "TEMPORAL_TLS_CLIENT_KEY_PATH)?"
    )
