"""Configuration from the environment, read once per process (twelve-factor: no config files
needed) and handed down: each service takes the part it needs, never the environment itself.

Secrets stay out of ``repr()``, so logging settings never prints them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from temporalio.envconfig import ClientConfigProfile, ClientConfigTLS

from careflow.errors import ConfigurationError

DEFAULT_TASK_QUEUE = "careflow"
DEFAULT_RULES = "rules/default.yaml"
# Where Temporal's tools look for profiles when TEMPORAL_CONFIG_FILE is unset (on Linux).
DEFAULT_CONFIG_FILE = "~/.config/temporalio/temporal.toml"
# Meta's Graph API: a version is retired about two years after the next one ships (v21.0 on
# 2027-01-21), so the version is a setting whose default follows Meta's changelog
# (https://developers.facebook.com/docs/graph-api/changelog: v26.0 introduced 2026-07-29).
GRAPH_HOST = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v26.0"
_GRAPH_VERSION = re.compile(r"^v\d+\.\d+$")
_VERSION_IN_URL = re.compile(r"/(v\d+\.\d+)/?$")


def _set(env: Mapping[str, str], name: str) -> str | None:
    """A variable's value, with an empty one taken as unset."""
    return env.get(name) or None


@dataclass(frozen=True)
class TemporalSettings:
    """Which Temporal, which namespace, which task queue, and how to reach it (TLS, API key).

    Everything but the task queue follows Temporal's own conventions (``temporalio.envconfig``):
    the ``TEMPORAL_*`` variables over a TOML profile (``TEMPORAL_PROFILE`` in
    ``TEMPORAL_CONFIG_FILE``), so a cluster any Temporal tool reaches, careflow reaches too.
    """

    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    api_key: str | None = field(default=None, repr=False)  # Temporal Cloud: TLS is implied
    tls: ClientConfigTLS | None = field(default=None, repr=False)  # may hold a key's text
    grpc_meta: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold tokens

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, profile: bool = True) -> TemporalSettings:
        """With ``profile=False`` only the task queue is read (``careflow up`` runs its own
        server and connects to nothing else)."""
        found = load_profile(env) if profile else ClientConfigProfile()
        return cls(
            address=found.address or cls.address,
            namespace=found.namespace or cls.namespace,
            task_queue=env.get("CAREFLOW_TASK_QUEUE", cls.task_queue),
            api_key=found.api_key,
            tls=found.tls,
            grpc_meta=found.grpc_meta,
        )

    def profile(self) -> ClientConfigProfile:
        """These settings as Temporal's profile, which makes ``Client.connect``'s arguments."""
        return ClientConfigProfile(
            address=self.address,
            namespace=self.namespace,
            api_key=self.api_key,
            tls=self.tls,
            grpc_meta=self.grpc_meta,
        )


def load_profile(env: Mapping[str, str]) -> ClientConfigProfile:
    """The Temporal profile the environment names, or one line saying which file or variable is
    wrong (the SDK itself silently skips a ``TEMPORAL_CONFIG_FILE`` that is not there)."""
    config_file = _set(env, "TEMPORAL_CONFIG_FILE")
    where = f"TEMPORAL_CONFIG_FILE={config_file}" if config_file else DEFAULT_CONFIG_FILE
    if config_file is not None and not Path(config_file).is_file():
        raise ConfigurationError(f"{where}: no such file")
    try:
        return ClientConfigProfile.load(override_env_vars=dict(env))
    except RuntimeError as error:  # the SDK's envconfig ConfigError
        message = str(error)
        if message.startswith("Profile ") and message.endswith(" not found"):
            name = _set(env, "TEMPORAL_PROFILE") or "default"
            raise ConfigurationError(
                f"TEMPORAL_PROFILE={name}: no such profile in {where}"
            ) from None
        lines = [line for line in message.splitlines() if line.strip()]
        detail = lines[0] if len(lines) < 2 else f"{lines[0]}: {lines[-1]}"  # TOML: where, what
        raise ConfigurationError(f"{where}: {detail}") from None


ENCRYPTION_SWITCH = "CAREFLOW_ENCRYPTION"
LOCAL_KEY_FILE = "encryption.key"  # in $CAREFLOW_HOME, made by `careflow up`


@dataclass(frozen=True)
class EncryptionSettings:
    """Payload encryption keys and the codec server's bearer tokens.

    Private by default: without configured keys, every process of one ``$CAREFLOW_HOME`` uses
    the key ``careflow up`` made there (``local_key``), so they all read what the others wrote.
    ``CAREFLOW_ENCRYPTION=off`` stores new payloads in clear; whatever keys there are still
    decrypt older ones, so running inquiries keep working.
    """

    keys: str | None = field(default=None, repr=False)  # "id=base64,..." current first
    key_file: str | None = None  # the same entries, one a line
    codec_tokens: tuple[str, ...] = field(default=(), repr=False)
    enabled: bool = True  # CAREFLOW_ENCRYPTION: "off" encrypts nothing new
    local_key: Path | None = None  # $CAREFLOW_HOME/encryption.key, used when no key is set

    @property
    def configured(self) -> bool:
        """Whether keys were set explicitly (they win over the local key)."""
        return bool(self.keys or self.key_file)

    @classmethod
    def from_env(cls, env: Mapping[str, str], home: Path | None = None) -> EncryptionSettings:
        """Raises ``ConfigurationError`` when ``CAREFLOW_ENCRYPTION`` is neither on nor off."""
        switch = (_set(env, ENCRYPTION_SWITCH) or "on").strip().lower()
        if switch not in ("on", "off"):
            raise ConfigurationError(
                f"{ENCRYPTION_SWITCH} is {switch!r}: use on (the default) or off "
                "(store new payloads in clear)"
            )
        return cls(
            keys=_set(env, "CAREFLOW_ENCRYPTION_KEYS"),
            key_file=_set(env, "CAREFLOW_ENCRYPTION_KEY_FILE"),
            codec_tokens=tuple(
                token.strip()
                for token in env.get("CAREFLOW_CODEC_TOKENS", "").split(",")
                if token.strip()
            ),
            enabled=switch == "on",
            local_key=None if home is None else home / LOCAL_KEY_FILE,
        )


@dataclass(frozen=True)
class TelemetrySettings:
    """OpenTelemetry exporters, by OpenTelemetry's own variable names."""

    traces_exporter: str = "none"  # OTEL_TRACES_EXPORTER: none, console, otlp
    metrics_exporter: str = "none"  # OTEL_METRICS_EXPORTER: none, console, otlp
    service_name: str = "careflow"  # OTEL_SERVICE_NAME

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelemetrySettings:
        return cls(
            traces_exporter=env.get("OTEL_TRACES_EXPORTER", cls.traces_exporter),
            metrics_exporter=env.get("OTEL_METRICS_EXPORTER", cls.metrics_exporter),
            service_name=env.get("OTEL_SERVICE_NAME", cls.service_name),
        )


@dataclass(frozen=True)
class PlatformSettings:
    """The outbound side: which adapter, where the platform APIs are, and their secrets."""

    adapter: str = "sandbox"  # CAREFLOW_ADAPTER: sandbox or platform
    x_api_base: str = "https://api.x.com"  # X API v2 (paths start /2/…)
    x_bearer_token: str | None = field(default=None, repr=False)  # user-context OAuth 2.0 token
    # Graph API base URL, version included (CAREFLOW_META_GRAPH_BASE, or the host and
    # CAREFLOW_META_GRAPH_VERSION); ``meta_graph_version`` reads the version back from it.
    meta_graph_base: str = f"{GRAPH_HOST}/{DEFAULT_GRAPH_VERSION}"
    meta_page_token: str | None = field(default=None, repr=False)  # Page access token
    # Notifications and escalations: a Slack-compatible incoming webhook (its URL is a secret).
    notify_webhook_url: str | None = field(default=None, repr=False)
    notify_webhook_secret: str | None = field(default=None, repr=False)  # HMAC-SHA256 key
    # Live-chat hand-off: the chat service's session endpoint and the secret that signs requests.
    chat_url: str | None = field(default=None, repr=False)
    chat_secret: str | None = field(default=None, repr=False)
    # X's OAuth 2.0 refresh (issue 11): with a refresh token the X token renews itself; without,
    # x_bearer_token is used as it is. The refresh token only seeds $CAREFLOW_HOME/x-oauth.json.
    x_client_id: str | None = None
    x_client_secret: str | None = field(default=None, repr=False)  # confidential clients
    x_refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PlatformSettings:
        return cls(
            adapter=env.get("CAREFLOW_ADAPTER", cls.adapter),
            x_api_base=_set(env, "CAREFLOW_X_API_BASE") or cls.x_api_base,
            x_bearer_token=_set(env, "CAREFLOW_X_BEARER_TOKEN"),
            meta_graph_base=_graph_base(env),
            meta_page_token=_set(env, "CAREFLOW_META_PAGE_TOKEN"),
            notify_webhook_url=_set(env, "CAREFLOW_NOTIFY_WEBHOOK_URL"),
            notify_webhook_secret=_set(env, "CAREFLOW_NOTIFY_WEBHOOK_SECRET"),
            chat_url=_set(env, "CAREFLOW_CHAT_URL"),
            chat_secret=_set(env, "CAREFLOW_CHAT_SECRET"),
            x_client_id=_set(env, "CAREFLOW_X_CLIENT_ID"),
            x_client_secret=_set(env, "CAREFLOW_X_CLIENT_SECRET"),
            x_refresh_token=_set(env, "CAREFLOW_X_REFRESH_TOKEN"),
        )

    @property
    def meta_graph_version(self) -> str | None:
        """The Graph API version the base URL names (``v26.0``), None if it names none."""
        found = _VERSION_IN_URL.search(self.meta_graph_base)
        return found.group(1) if found else None


def _graph_base(env: Mapping[str, str]) -> str:
    """``CAREFLOW_META_GRAPH_BASE`` as given when it names a version; else the version
    (``CAREFLOW_META_GRAPH_VERSION``, or the default) appended to it or to Graph's host."""
    version = _set(env, "CAREFLOW_META_GRAPH_VERSION")
    if version is not None and not _GRAPH_VERSION.match(version.strip()):
        raise ConfigurationError(
            f"CAREFLOW_META_GRAPH_VERSION={version!r} is not a Graph API version "
            f"(expected the form {DEFAULT_GRAPH_VERSION})"
        )
    version = version.strip() if version else None
    base = _set(env, "CAREFLOW_META_GRAPH_BASE")
    if base is None:
        return f"{GRAPH_HOST}/{version or DEFAULT_GRAPH_VERSION}"
    named = _VERSION_IN_URL.search(base)
    if named is None:
        return f"{base.rstrip('/')}/{version or DEFAULT_GRAPH_VERSION}"
    if version is not None and named.group(1) != version:
        raise ConfigurationError(
            f"CAREFLOW_META_GRAPH_BASE names Graph API {named.group(1)} but "
            f"CAREFLOW_META_GRAPH_VERSION is {version}: set one of them"
        )
    return base


@dataclass(frozen=True)
class WebhookSecrets:
    """The webhook intake's secrets, one per platform; a webhook without one answers 503."""

    generic: str | None = field(default=None, repr=False)  # hex HMAC-SHA256
    x_consumer_secret: str | None = field(default=None, repr=False)  # X: CRC and signatures
    meta_app_secret: str | None = field(default=None, repr=False)  # Meta: X-Hub-Signature-256
    meta_verify_token: str | None = field(default=None, repr=False)  # Meta: subscription check

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSecrets:
        return cls(
            generic=_set(env, "CAREFLOW_WEBHOOK_SECRET"),
            x_consumer_secret=_set(env, "CAREFLOW_X_CONSUMER_SECRET"),
            meta_app_secret=_set(env, "CAREFLOW_META_APP_SECRET"),
            meta_verify_token=_set(env, "CAREFLOW_META_VERIFY_TOKEN"),
        )


@dataclass(frozen=True)
class BrandAccounts:
    """The brand's own accounts: their posts reach the webhooks too (echoes) and start nothing."""

    x_user_id: str | None = None
    page_id: str | None = None
    instagram_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BrandAccounts:
        return cls(
            x_user_id=_set(env, "CAREFLOW_BRAND_X_USER_ID"),
            page_id=_set(env, "CAREFLOW_BRAND_PAGE_ID"),
            instagram_id=_set(env, "CAREFLOW_BRAND_INSTAGRAM_ID"),
        )


@dataclass(frozen=True)
class ApiTokenSettings:
    """The agent API's bearer tokens: "token=role:name,..." (env) or a file of such lines."""

    tokens: str | None = field(default=None, repr=False)
    tokens_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiTokenSettings:
        return cls(
            tokens=_set(env, "CAREFLOW_API_TOKENS"),
            tokens_file=_set(env, "CAREFLOW_API_TOKENS_FILE"),
        )


SIGNING_KEY_FILE = "audit-signing.key"  # in $CAREFLOW_HOME, made by the first export
_RETENTION = re.compile(r"^\s*(\d+)\s*d\s*$")


@dataclass(frozen=True)
class AuditSettings:
    """The key that signs export manifests (``careflow audit export``/``verify``), and how long
    Temporal keeps closed inquiries (``careflow setup`` sets it)."""

    signing_key_file: Path | None = None  # CAREFLOW_AUDIT_SIGNING_KEY_FILE, else in the home
    retention_days: int | None = None  # CAREFLOW_RETENTION, e.g. 90d

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuditSettings:
        """Raises ``ConfigurationError`` on a retention that is not a number of days."""
        retention = _set(env, "CAREFLOW_RETENTION")
        days = None
        if retention is not None:
            found = _RETENTION.match(retention)
            if found is None or int(found.group(1)) < 1:
                raise ConfigurationError(
                    f"CAREFLOW_RETENTION={retention!r}: give whole days, at least 1 (e.g. 90d)"
                )
            days = int(found.group(1))
        signing = _set(env, "CAREFLOW_AUDIT_SIGNING_KEY_FILE")
        return cls(signing_key_file=Path(signing) if signing else None, retention_days=days)


CUSTOMER_KEY_FILE = "customer.key"  # in $CAREFLOW_HOME, made by `careflow up` or first use


@dataclass(frozen=True)
class CustomerKeySettings:
    """The secret ``CareCustomer``'s keyed hash is made with (``careflow.temporal.customers``):
    ``CAREFLOW_CUSTOMER_KEY`` (current first, older ones after commas), else the lines of
    ``CAREFLOW_CUSTOMER_KEY_FILE``, else ``$CAREFLOW_HOME/customer.key``. Every process that
    starts or looks up inquiries must use the same one."""

    keys: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    local_key: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], home: Path | None = None) -> CustomerKeySettings:
        key_file = _set(env, "CAREFLOW_CUSTOMER_KEY_FILE")
        return cls(
            keys=_set(env, "CAREFLOW_CUSTOMER_KEY"),
            key_file=Path(key_file) if key_file else None,
            local_key=None if home is None else home / CUSTOMER_KEY_FILE,
        )


@dataclass(frozen=True)
class Settings:
    """Everything a careflow process is configured with, in parts."""

    temporal: TemporalSettings = TemporalSettings()
    rules: str = DEFAULT_RULES  # CAREFLOW_RULES
    home: Path = Path(".careflow")  # CAREFLOW_HOME: local state (0700)
    platform: PlatformSettings = PlatformSettings()
    webhooks: WebhookSecrets = WebhookSecrets()
    brand: BrandAccounts = BrandAccounts()
    api: ApiTokenSettings = ApiTokenSettings()
    encryption: EncryptionSettings = EncryptionSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    audit: AuditSettings = AuditSettings()
    customers: CustomerKeySettings = CustomerKeySettings()
    # How often the trend watch ticks (CAREFLOW_TREND_INTERVAL, a duration such as 5m).
    trend_interval: str = "5m"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, temporal_profile: bool = True
    ) -> Settings:
        """Raises ``ConfigurationError`` on a Temporal profile that cannot be read, or an
        encryption switch that is neither on nor off."""
        env = os.environ if env is None else env
        home = Path(env.get("CAREFLOW_HOME", str(cls.home)))
        return cls(
            temporal=TemporalSettings.from_env(env, profile=temporal_profile),
            rules=env.get("CAREFLOW_RULES", cls.rules),
            home=home,
            platform=PlatformSettings.from_env(env),
            webhooks=WebhookSecrets.from_env(env),
            brand=BrandAccounts.from_env(env),
            api=ApiTokenSettings.from_env(env),
            encryption=EncryptionSettings.from_env(env, home),
            telemetry=TelemetrySettings.from_env(env),
            audit=AuditSettings.from_env(env),
            customers=CustomerKeySettings.from_env(env, home),
            trend_interval=env.get("CAREFLOW_TREND_INTERVAL", cls.trend_interval),
        )

    @property
    def outbox(self) -> Path:
        """The sandbox adapter's file."""
        return self.home / "outbox.jsonl"

    @property
    def deliveries(self) -> Path:
        """The platform adapter's record of delivered idempotency keys."""
        return self.home / "deliveries.sqlite3"

    @property
    def customer_keys(self) -> CustomerKeySettings:
        """The customer-hash key settings, the home's own file when nothing is configured."""
        if self.customers.local_key is not None:
            return self.customers
        return replace(self.customers, local_key=self.home / CUSTOMER_KEY_FILE)

    @property
    def signing_key_file(self) -> Path:
        """The Ed25519 key that signs export manifests."""
        return self.audit.signing_key_file or self.home / SIGNING_KEY_FILE
