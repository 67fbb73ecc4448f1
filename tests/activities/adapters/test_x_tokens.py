"""X's OAuth 2.0 refresh against the fake platform over HTTP: a token that expires mid-run is
renewed and the reply goes out once; rotation is persisted for the next process; several
adapters (and processes) refreshing at once make one refresh; the refresh token is never
logged."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities.adapters.platform import PlatformAdapter
from activities.adapters.x_tokens import TOKEN_FILE, XTokens
from careflow.settings import PlatformSettings
from tests.activities.adapters.support import Fake, adapter_of, deliver, failure, outbound, settings

CLIENT_ID = "careflow-test-client"
ROOT = Path(__file__).resolve().parents[3]


def oauth(fake: Fake, **setup: Any) -> dict[str, Any]:
    response = httpx.post(f"{fake.url}/_fake/oauth", json=setup)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def refreshes(fake: Fake) -> int:
    count: int = httpx.get(f"{fake.url}/_fake/oauth").json()["refreshes"]
    return count


def seeded(fake: Fake, home: Path, seed: str, lifetime: float = 7200) -> PlatformAdapter:
    """An adapter with no fixed token, only a refresh token the fake knows."""
    oauth(fake, refresh_token=seed, expires_in=lifetime, client_id=CLIENT_ID, client_secret=None)
    configured = settings(
        fake, home, x_bearer_token=None, x_client_id=CLIENT_ID, x_refresh_token=seed
    )
    return adapter_of(configured)


def tweets(fake: Fake) -> list[dict[str, Any]]:
    return [post for post in fake.posts() if post["kind"] == "tweet"]


def test_a_token_expiring_mid_run_is_refreshed_and_the_reply_goes_out_once(
    fake: Fake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed = "seed-refresh-token-expiring-mid-run"
    adapter = seeded(fake, tmp_path, seed)
    before = refreshes(fake)
    first = deliver(adapter, outbound(key="inquiry-x-1/acknowledge/1"), "first reply")
    assert refreshes(fake) == before + 1  # no access token yet: one refresh at first use
    stored = json.loads((tmp_path / TOKEN_FILE).read_text())
    assert stored["refresh_token"] != seed  # rotated, and kept

    oauth(fake, expire_all=True)  # the platform stops taking the token before careflow expects
    second = deliver(adapter, outbound(key="inquiry-x-1/resolve/2"), "second reply")
    assert refreshes(fake) == before + 2  # the 401 renewed it once, and the post went again
    assert [post["text"] for post in tweets(fake)] == ["first reply", "second reply"]
    assert first.id != second.id

    rotated = json.loads((tmp_path / TOKEN_FILE).read_text())
    secrets = {seed, stored["refresh_token"], rotated["refresh_token"], rotated["access_token"]}
    assert not any(secret in caplog.text for secret in secrets)
    assert "refreshed" in caplog.text  # it does say that it refreshed
    assert stat.S_IMODE(os.stat(tmp_path / TOKEN_FILE).st_mode) == 0o600
    assert seed not in repr(adapter.settings)


def test_a_token_due_for_renewal_is_refreshed_before_use(fake: Fake, tmp_path: Path) -> None:
    adapter = seeded(fake, tmp_path, "seed-refresh-token-short-lived", lifetime=1.2)
    before = refreshes(fake)
    deliver(adapter, outbound(key="inquiry-x-2/acknowledge/1"), "one")
    time.sleep(1.0)  # past refresh_at (a quarter of the lifetime ahead), before the expiry
    deliver(adapter, outbound(key="inquiry-x-2/resolve/2"), "two")
    assert refreshes(fake) == before + 2
    assert httpx.get(f"{fake.url}/_fake/oauth").json()["refused"] == 0  # no 401 on the way
    assert [post["text"] for post in tweets(fake)] == ["one", "two"]


def test_the_rotated_token_is_what_the_next_process_uses(fake: Fake, tmp_path: Path) -> None:
    seed = "seed-refresh-token-rotation"
    deliver(seeded(fake, tmp_path, seed), outbound(key="inquiry-x-3/acknowledge/1"), "one")
    oauth(fake, expire_all=True)
    refused = httpx.get(f"{fake.url}/_fake/oauth").json()["refused"]
    later = seeded(fake, tmp_path, seed)  # a new worker: same home, same (now spent) seed
    deliver(later, outbound(key="inquiry-x-3/resolve/2"), "two")
    assert httpx.get(f"{fake.url}/_fake/oauth").json()["refused"] == refused  # seed not reused
    assert [post["text"] for post in tweets(fake)] == ["one", "two"]


def test_two_adapters_refreshing_at_once_make_one_refresh(fake: Fake, tmp_path: Path) -> None:
    seed = "seed-refresh-token-concurrent"
    first, second = seeded(fake, tmp_path, seed), seeded(fake, tmp_path, seed)
    before = refreshes(fake)

    async def both() -> None:
        await asyncio.gather(
            first.deliver(outbound(key="inquiry-x-4/acknowledge/1"), "from one"),
            second.deliver(outbound(key="inquiry-x-5/acknowledge/1"), "from two"),
        )

    asyncio.run(both())
    assert refreshes(fake) == before + 1
    assert sorted(post["text"] for post in tweets(fake)) == ["from one", "from two"]


REFRESH_IN_A_PROCESS = """
import asyncio, sys
from pathlib import Path
import httpx
from activities.adapters.x_tokens import XTokens
from careflow.settings import PlatformSettings
settings = PlatformSettings(x_api_base=sys.argv[1], x_client_id=sys.argv[2], x_refresh_token=sys.argv[3])
async def main() -> None:
    async with httpx.AsyncClient() as client:
        print(await XTokens(settings, Path(sys.argv[4])).current(client))
asyncio.run(main())
"""


def test_several_processes_on_one_host_make_one_refresh(fake: Fake, tmp_path: Path) -> None:
    seed = "seed-refresh-token-processes"
    oauth(fake, refresh_token=seed, expires_in=7200, client_id=CLIENT_ID)
    before = refreshes(fake)
    argv = [sys.executable, "-c", REFRESH_IN_A_PROCESS, fake.url, CLIENT_ID, seed, str(tmp_path)]
    running = [
        subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    answers = [process.communicate(timeout=60) for process in running]
    assert all(process.returncode == 0 for process in running), answers
    assert len({out.strip() for out, _ in answers}) == 1  # the same access token for all three
    assert refreshes(fake) == before + 1


def test_a_spent_refresh_token_is_refused_for_good_naming_what_to_do(
    fake: Fake, tmp_path: Path
) -> None:
    seed = "seed-refresh-token-spent"
    deliver(seeded(fake, tmp_path / "one", seed), outbound(key="inquiry-x-6/ack/1"), "one")
    elsewhere = adapter_of(  # another host, the same seed: spent by the first
        settings(
            fake, tmp_path / "two", x_bearer_token=None, x_client_id=CLIENT_ID, x_refresh_token=seed
        )
    )
    error = failure(elsewhere, outbound(key="inquiry-x-7/ack/1"))
    assert error.type == "DeliveryRejected" and error.non_retryable
    assert "Value passed for the token was invalid" in str(error)
    assert "CAREFLOW_X_REFRESH_TOKEN" in str(error) and seed not in str(error)


def test_a_new_seed_starts_over_from_it(fake: Fake, tmp_path: Path) -> None:
    deliver(seeded(fake, tmp_path, "seed-old"), outbound(key="inquiry-x-8/ack/1"), "one")
    tokens = XTokens(
        PlatformSettings(x_api_base=fake.url, x_client_id=CLIENT_ID, x_refresh_token="seed-new"),
        tmp_path,
    )
    assert tokens.stored() is None  # the file's chain descends from another seed


def test_without_refresh_settings_the_fixed_token_works_as_before(
    fake: Fake, tmp_path: Path
) -> None:
    adapter = adapter_of(settings(fake, tmp_path))
    deliver(adapter, outbound(), "hello")
    assert [post["text"] for post in tweets(fake)] == ["hello"]
    assert not (tmp_path / TOKEN_FILE).exists()


def test_a_refused_fixed_token_is_rejected_without_a_refresh(fake: Fake, tmp_path: Path) -> None:
    error = failure(adapter_of(settings(fake, tmp_path, x_bearer_token="wrong-token")), outbound())
    assert error.type == "DeliveryRejected" and "401" in str(error)
