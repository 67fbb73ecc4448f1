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
