"""A platform's failures as retryable or final errors (activities/adapters/http.py)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from activities.adapters.http import retry_after
from tests.activities.adapters.support import Fake, adapter_of, deliver, failure, outbound, settings


def test_a_429_is_retried_after_retry_after(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(status=429, count=1, retry_after=7)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformRateLimited", False)
    assert error.next_retry_delay == timedelta(seconds=7)
    assert fake.posts() == []
    deliver(adapter, outbound(), "hello")  # the storm is over
    assert len(fake.posts()) == 1


def test_retry_after_reads_seconds_dates_and_xs_reset_header() -> None:
    now = 1_800_000_000.0
    assert retry_after({"retry-after": "12"}, now) == timedelta(seconds=12)
    date = formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after": date}, now) == timedelta(seconds=30)
    assert retry_after({"x-rate-limit-reset": str(int(now) + 90)}, now) == timedelta(seconds=90)
    assert retry_after({}, now) == timedelta(seconds=1)
    assert retry_after({"retry-after": "86400"}, now) == timedelta(minutes=15)


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_retryable(fake: Fake, tmp_path: Path, status: int) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(status=status, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert str(status) in error.message


def test_a_wrong_token_is_rejected_for_good(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path, x_bearer_token="revoked-token-xxxxxxxx"))
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "401" in error.message and "revoked" not in error.message
    assert fake.posts() == []


def test_a_missing_token_names_the_setting(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path, meta_page_token=None))
    error = failure(adapter, outbound(channel="facebook"))
    assert (error.type, error.non_retryable) == ("DeliveryRejected", True)
    assert "CAREFLOW_META_PAGE_TOKEN" in error.message


def test_a_timeout_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path), timeout=httpx.Timeout(0.3))
    fake.fault(delay=1.0, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "in time" in error.message


def test_a_dropped_connection_is_retryable(fake: Fake, tmp_path: Path) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    fake.fault(drop=True, count=1)
    error = failure(adapter, outbound())
    assert (error.type, error.non_retryable) == ("PlatformUnavailable", False)
    assert "unreachable" in error.message  # no answer at all, not a 5xx
    assert fake.posts() == []
