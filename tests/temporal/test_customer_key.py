"""``CareCustomer`` is a keyed hash: a new inquiry's visibility record holds no platform user id,
and the customer's DM still finds their open public inquiry, whether it was started with the
hash or (before it) with the raw id."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from careflow.engine.post import Inquiry
from careflow.engine.ruleset import load_ruleset
from careflow.errors import ConfigurationError
from careflow.settings import CustomerKeySettings, Settings, TemporalSettings
from careflow.temporal.customers import customer_ids
from careflow.temporal.intake import intake
from careflow.temporal.worker import build_worker
from tests.harness import dev_server, example, quick_follow_up_pack, start_as_before
from workflows import search

JO = "40005"  # the warranty example's author on Instagram


def dm_from_jo(public: Inquiry, post_id: str) -> Inquiry:
    """Jo's DM to the brand: Instagram keys the private conversation by the customer."""
    return public.model_copy(
        update={"id": post_id, "kind": "private", "conversation_id": JO, "url": None}
    )


def test_care_customer_holds_no_raw_id_and_a_dm_still_finds_the_open_inquiry(
    tmp_path: Path,
) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)
    settings = Settings(
        rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="customer-key")
    )
    customers = customer_ids(settings.customer_keys)
    key_file = tmp_path / "customer.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # made now, private

    async def scenario() -> None:
        async with await dev_server() as env:
            client, queue = env.client, settings.temporal.task_queue
            async with build_worker(client, settings):
                now = await env.get_current_time()
                public = example("warranty", now)
                started = await intake(client, queue, public, ruleset, customers=customers)
                assert started.workflow_id and not started.continued
                described = await client.get_workflow_handle(started.workflow_id).describe()
                stored = described.typed_search_attributes.get(search.CUSTOMER)
                assert stored is not None and stored.startswith("instagram:h:")
                assert len(stored) == len("instagram:h:") + 64
                assert JO not in stored
                raw_query = f"{search.CUSTOMER.name} = 'instagram:{JO}'"
                assert [w async for w in client.list_workflows(raw_query)] == []

                dm = dm_from_jo(public, "dm-1")
                joined = await intake(client, queue, dm, ruleset, customers=customers)
                assert joined.continued and joined.workflow_id == started.workflow_id

                # Another home's key makes another hash: that DM starts its own inquiry.
                other = customer_ids(CustomerKeySettings(keys="o" * 32))
                apart = await intake(
                    client, queue, dm_from_jo(public, "dm-2"), ruleset, customers=other
                )
                assert not apart.continued and apart.workflow_id != started.workflow_id

    asyncio.run(scenario())


def test_a_dm_finds_an_inquiry_started_with_the_raw_id_before_the_hash(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    ruleset = load_ruleset(pack)
    settings = Settings(
        rules=str(pack), home=tmp_path, temporal=TemporalSettings(task_queue="customer-old")
    )
    customers = customer_ids(settings.customer_keys)

    async def scenario() -> None:
        async with await dev_server() as env:
            client, queue = env.client, settings.temporal.task_queue
            async with build_worker(client, settings):
                public = example("warranty", await env.get_current_time())
                old = await start_as_before(client, public, queue)
                joined = await intake(
                    client, queue, dm_from_jo(public, "dm-1"), ruleset, customers=customers
                )
                assert joined.continued and joined.workflow_id == old

    asyncio.run(scenario())


def test_a_customer_key_that_cannot_be_used_is_one_line_naming_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CAREFLOW_CUSTOMER_KEY: customer key 1 is 5"):
        customer_ids(CustomerKeySettings(keys="short"))
    empty = tmp_path / "empty.key"
    empty.write_text("# nothing but a comment\n")
    with pytest.raises(ConfigurationError, match=f"{empty} holds no customer key"):
        customer_ids(CustomerKeySettings(key_file=empty))
    rotated = customer_ids(CustomerKeySettings(keys=f"{'n' * 32},{'o' * 32}"))
    old = customer_ids(CustomerKeySettings(keys="o" * 32))
    jo, jo_before = rotated.of("instagram", JO), old.of("instagram", JO)
    assert jo is not None and jo_before is not None
    # The current key hashes new inquiries; the older one, and the raw id, are still looked up.
    assert jo.stored != jo_before.stored
    assert jo.matches == (jo.stored, jo_before.stored, f"instagram:{JO}")
    # A Messenger DM and a Facebook comment are the same customer of one platform.
    assert rotated.of("messenger", JO) == rotated.of("facebook", JO)


def test_erasing_needs_the_key_the_intake_hashed_with(tmp_path: Path) -> None:
    missing = CustomerKeySettings(local_key=tmp_path / "customer.key")
    with pytest.raises(ConfigurationError, match="no customer key: CAREFLOW_CUSTOMER_KEY and"):
        customer_ids(missing, make=False)
    assert not (tmp_path / "customer.key").exists()  # a lookup makes no key of its own
    made = customer_ids(missing)
    assert customer_ids(missing, make=False) == made
