"""Configuration from the environment, read in one place (twelve-factor: no config files needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TASK_QUEUE = "careflow"
DEFAULT_RULES = "rules/default.yaml"


@dataclass(frozen=True)
class Settings:
    """Where Temporal is, which task queue and rule file, and where local state lives."""

    temporal_address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    rules: str = DEFAULT_RULES
    home: Path = Path(".careflow")
    adapter: str = "sandbox"

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
        )

    @property
    def outbox(self) -> Path:
        """The sandbox adapter's file."""
        return self.home / "outbox.jsonl"
