"""Configuration from the environment, read in one place (twelve-factor: no config files needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TASK_QUEUE = "careflow"
DEFAULT_RULES = "rules/default.yaml"


@dataclass(frozen=True)
class Settings:
    """Where Temporal is, which task queue and rule file, where local state lives, which keys."""

    temporal_address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    rules: str = DEFAULT_RULES
    home: Path = Path(".careflow")
    adapter: str = "sandbox"
    # Secrets stay out of repr(), so logging the settings never prints them.
    encryption_keys: str | None = field(default=None, repr=False)  # "id=base64,..." current first
    encryption_key_file: str | None = None  # the same entries, one a line
    codec_tokens: tuple[str, ...] = field(default=(), repr=False)  # bearer tokens: codec server
    traces_exporter: str = "none"  # OTEL_TRACES_EXPORTER: none, console, otlp
    metrics_exporter: str = "none"  # OTEL_METRICS_EXPORTER: none, console, otlp
    service_name: str = "careflow"  # OTEL_SERVICE_NAME
    # The platform adapter (CAREFLOW_ADAPTER=platform): where the APIs are, and their secrets.
    x_api_base: str = "https://api.x.com"  # X API v2 (paths start /2/…)
    x_bearer_token: str | None = field(default=None, repr=False)  # user-context OAuth 2.0 token
    meta_graph_base: str = "https://graph.facebook.com/v21.0"  # Graph API, version included
    meta_page_token: str | None = field(default=None, repr=False)  # Page access token
    # Notifications and escalations: a Slack-compatible incoming webhook (its URL is a secret).
    notify_webhook_url: str | None = field(default=None, repr=False)
    notify_webhook_secret: str | None = field(default=None, repr=False)  # HMAC-SHA256 key
    # Webhook intake (`careflow api`): one secret per platform; a webhook without one answers 503.
    webhook_secret: str | None = field(default=None, repr=False)  # generic: hex HMAC-SHA256
    x_consumer_secret: str | None = field(default=None, repr=False)  # X: CRC and signatures
    meta_app_secret: str | None = field(default=None, repr=False)  # Meta: X-Hub-Signature-256
    meta_verify_token: str | None = field(default=None, repr=False)  # Meta: subscription check
    # The brand's own accounts: their posts reach the webhooks too (echoes) and start nothing.
    brand_x_user_id: str | None = None
    brand_page_id: str | None = None
    brand_instagram_id: str | None = None
    # The agent API: bearer tokens "token=role:name,..." (env) or a file of such lines.
    api_tokens: str | None = field(default=None, repr=False)
    api_tokens_file: str | None = None
    # Live-chat hand-off: the chat service's session endpoint and the secret that signs requests.
    chat_url: str | None = field(default=None, repr=False)
    chat_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            temporal_address=env.get("TEMPORAL_ADDRESS", cls.temporal_address),
            namespace=env.get("TEMPORAL_NAMESPACE", cls.namespace),
            task_queue=env.get("CAREFLOW_TASK_QUEUE", cls.task_queue),
            rules=env.get("CAREFLOW_RULES", cls.rules),
            home=Path(env.get("CAREFLOW_HOME", str(cls.home))),
            adapter=env.get("CAREFLOW_ADAPTER", cls.adapter),
            encryption_keys=env.get("CAREFLOW_ENCRYPTION_KEYS") or None,
            encryption_key_file=env.get("CAREFLOW_ENCRYPTION_KEY_FILE") or None,
            traces_exporter=env.get("OTEL_TRACES_EXPORTER", cls.traces_exporter),
            metrics_exporter=env.get("OTEL_METRICS_EXPORTER", cls.metrics_exporter),
            service_name=env.get("OTEL_SERVICE_NAME", cls.service_name),
            webhook_secret=env.get("CAREFLOW_WEBHOOK_SECRET") or None,
            x_consumer_secret=env.get("CAREFLOW_X_CONSUMER_SECRET") or None,
            meta_app_secret=env.get("CAREFLOW_META_APP_SECRET") or None,
            meta_verify_token=env.get("CAREFLOW_META_VERIFY_TOKEN") or None,
            brand_x_user_id=env.get("CAREFLOW_BRAND_X_USER_ID") or None,
            brand_page_id=env.get("CAREFLOW_BRAND_PAGE_ID") or None,
            brand_instagram_id=env.get("CAREFLOW_BRAND_INSTAGRAM_ID") or None,
            x_api_base=env.get("CAREFLOW_X_API_BASE") or cls.x_api_base,
            x_bearer_token=env.get("CAREFLOW_X_BEARER_TOKEN") or None,
            meta_graph_base=env.get("CAREFLOW_META_GRAPH_BASE") or cls.meta_graph_base,
            meta_page_token=env.get("CAREFLOW_META_PAGE_TOKEN") or None,
            notify_webhook_url=env.get("CAREFLOW_NOTIFY_WEBHOOK_URL") or None,
            notify_webhook_secret=env.get("CAREFLOW_NOTIFY_WEBHOOK_SECRET") or None,
            api_tokens=env.get("CAREFLOW_API_TOKENS") or None,
            api_tokens_file=env.get("CAREFLOW_API_TOKENS_FILE") or None,
            chat_url=env.get("CAREFLOW_CHAT_URL") or None,
            chat_secret=env.get("CAREFLOW_CHAT_SECRET") or None,
            codec_tokens=tuple(
                token.strip()
                for token in env.get("CAREFLOW_CODEC_TOKENS", "").split(",")
                if token.strip()
            ),
        )

    @property
    def outbox(self) -> Path:
        """The sandbox adapter's file."""
        return self.home / "outbox.jsonl"

    @property
    def deliveries(self) -> Path:
        """The platform adapter's record of delivered idempotency keys."""
        return self.home / "deliveries.sqlite3"
