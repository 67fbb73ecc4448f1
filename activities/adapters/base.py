"""The channel adapter protocol: what every platform adapter (sandbox, X, Meta…) provides."""

from __future__ import annotations

from typing import Protocol

from activities.types import Delivery, Outbound


class ChannelAdapter(Protocol):
    """Posts to a platform. Must be idempotent per ``outbound.key``."""

    name: str

    async def deliver(self, outbound: Outbound, text: str) -> Delivery: ...

    async def aclose(self) -> None:
        """Release connections when the worker stops."""
        ...
