"""What the adapter tests share: a client of the fake platform, and settings, messages and
deliveries made short.

Unit tests drive ``PlatformAdapter.deliver`` directly and read what the fake recorded over HTTP
(``GET /_fake/posts``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.adapters.platform import PlatformAdapter
from activities.types import Outbound
from careflow.settings import PlatformSettings, Settings

TOKEN = "test-token-0123456789"
SECRET = "webhook-secret"
POST_ID = "1860000000000000014"


@dataclass
class Fake:
    """The running fake platform, read and spoiled through its ``/_fake`` endpoints."""

    url: str

    def posts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_fake/posts")
        response.raise_for_status()
        posts: list[dict[str, Any]] = response.json()
        return posts

    def fault(self, **fault: Any) -> None:
        httpx.post(f"{self.url}/_fake/faults", json=fault).raise_for_status()

    def pending(self) -> int:
        count: int = httpx.get(f"{self.url}/_fake/faults").json()["pending"]
        return count

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_fake/posts").raise_for_status()


def settings(fake: Fake, home: Path, **changes: Any) -> Settings:
    """Settings pointing every platform at the fake, with its token; ``changes`` override."""
    values: dict[str, Any] = {
        "adapter": "platform",
        "x_api_base": fake.url,
        "x_bearer_token": TOKEN,
        "meta_graph_base": f"{fake.url}/v21.0",
        "meta_page_token": TOKEN,
        "notify_webhook_url": f"{fake.url}/hooks/care",
        "notify_webhook_secret": SECRET,
    }
    return Settings(home=home, platform=PlatformSettings(**{**values, **changes}))


def adapter_of(configured: Settings, **options: Any) -> PlatformAdapter:
    return PlatformAdapter(configured.platform, configured.deliveries, **options)


def outbound(**changes: Any) -> Outbound:
    values: dict[str, Any] = {
        "key": "inquiry-x-1/acknowledge/1",
        "kind": "reply",
        "channel": "x",
        "conversation_id": POST_ID,
        "in_reply_to": POST_ID,
        "recipient": "hikerjules",
    }
    return Outbound(**{**values, **changes})


def deliver(adapter: PlatformAdapter, message: Outbound, text: str) -> Any:
    return asyncio.run(adapter.deliver(message, text))


def failure(adapter: PlatformAdapter, message: Outbound, text: str = "hello") -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        deliver(adapter, message, text)
    return caught.value


def words(count: int, word: str = "parcel") -> str:
    return " ".join(f"{word}{n}" for n in range(count))


def unnumbered(text: str) -> str:
    return text.rsplit(" (", 1)[0]
