"""What Meta really sends, through the real intake: a delivery whose signature is good is a 200
whatever its events hold; each is taken, ignored with a reason or listed as a problem, and only
real customer messages start (or join) inquiries. Payloads come from the fake platform's Meta
builders (careflow/devtools/fake_webhooks.py), which send the shapes of the real corpus."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import Client

from careflow.devtools.fake_webhooks import (
    Customer,
    meta_batch,
    meta_edit_event,
    meta_feedback_event,
    meta_message_event,
)
from careflow.errors import CareflowError
from careflow.http.app import create_app
from tests.channels.payloads import PAGE
from tests.http.test_webhook_intake import (
    FUZZ,
    RULESET,
    SECRETS,
    never_connect,
    not_found,
    on_dev_server,
    request,
    signed,
    until_status,
)

LENA = Customer(id="61001", handle="61001")
OMAR = Customer(id="61002", handle="61002")


def mixed_batch(now: datetime) -> dict[str, Any]:
    """A real message between an unsent one and an unsupported one, plus one with a photo only."""
    events = [
        meta_message_event("m_unsent", OMAR, None, now, PAGE, unsent=True),
        meta_message_event("m_real", LENA, "my parcel never came", now, PAGE),
        meta_message_event("m_odd", OMAR, None, now, PAGE, unsupported=True),
    ]
    return meta_batch(events, now, account_id=PAGE).body


async def delivered(app: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` signed as Meta signs it and accepted: the webhook's answer."""
    raw = json.dumps(payload).encode()
    headers = signed("/webhooks/meta", raw)
    answer = await request(app, "POST", "/webhooks/meta", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def deliver_page(app: Any, now: datetime, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The page's delivery of ``events``, accepted: the webhook's answer."""
    return await delivered(app, meta_batch(events, now, account_id=PAGE).body)


def test_a_mixed_batch_without_temporal_lists_what_it_ignored_and_its_problems() -> None:
    body = mixed_batch(datetime.now().astimezone())
    body["entry"][0]["messaging"][1]["message"] = {"mid": "m_broken"}  # no text: a problem
    del body["entry"][0]["messaging"][0]  # an unsent message needs Temporal: its inquiry
    raw = json.dumps(body).encode()
    app = create_app(SECRETS, never_connect, RULESET)
    answer = asyncio.run(
        request(app, "POST", "/webhooks/meta", content=raw, headers=signed("/webhooks/meta", raw))
    )
    assert answer.status_code == 200, answer.text
    said = answer.json()
    assert (said["received"], said["started"]) == (2, [])
    assert [item["id"] for item in said["ignored"]] == ["m_odd"]
    assert said["problems"] == [
        {
            "id": "m_broken",
            "where": "entry[0].messaging[0]",
            "message": "entry[0].messaging[0].message.text: missing",
        }
    ]


def test_a_mixed_batch_starts_exactly_the_real_message_and_standby_reaches_its_inquiry(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, app: Any, now: datetime) -> None:
        first = await delivered(app, mixed_batch(now))
        assert first["started"] == ["inquiry-messenger-61001"]
        assert {item["id"] for item in first["ignored"]} == {"m_unsent", "m_odd"}
        assert first["problems"] == []
        assert await not_found(client, "inquiry-messenger-61002")

        # Page Inbox now owns Lena's thread: her next message and the Inbox's answer arrive
        # under standby, and both reach her inquiry.
        later = now + timedelta(minutes=2)
        photo = [("image", "https://cdn.example/label.jpg")]
        standby = meta_batch(
            [meta_message_event("m_sb", LENA, None, later, PAGE, attachments=photo)],
            later,
            standby=True,
            account_id=PAGE,
        ).body
        inbox = {
            "sender": {"id": PAGE},
            "recipient": {"id": LENA.id},
            "timestamp": int(later.timestamp() * 1000) + 1,
            "message": {"mid": "m_inbox", "text": "Sorry! Resending today.", "is_echo": True},
        }
        standby["entry"][0]["standby"].append(inbox)
        second = await delivered(app, standby)
        # signal-with-start: the answer names the workflow the message reached (no new one)
        assert second["started"] == ["inquiry-messenger-61001"] and second["problems"] == []
        assert second["brand_posts"] == ["inquiry-messenger-61001"]
        status = await until_status(
            client,
            "inquiry-messenger-61001",
            lambda s: (
                any(m.text == "(photo)" for m in s.messages)
                and any(m.kind == "native_reply" for m in s.messages)
            ),
        )
        assert status.inquiry.text == "my parcel never came"
        customer = [m.text for m in status.messages if m.direction == "in"]
        assert customer == ["my parcel never came", "(photo)"]

    on_dev_server(tmp_path, scenario)


# ---------------------------------------------------------------------- fuzzing Meta's shapes

ids = st.one_of(st.text(max_size=12), st.integers(min_value=-5, max_value=10**20), st.none())
attachments = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["image", "video", "file", "", None, 3])},
            optional={"payload": st.one_of(st.none(), st.fixed_dictionaries({"url": ids}))},
        ),
        ids,
    ),
    max_size=3,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "mid": ids,
        "text": st.one_of(st.text(max_size=20), st.none(), st.integers()),
        "is_echo": st.booleans(),
        "is_deleted": st.booleans(),
        "is_unsupported": st.booleans(),
        "attachments": st.one_of(attachments, st.text(max_size=3)),
    },
)
events = st.fixed_dictionaries(
    {},
    optional={
        "sender": st.one_of(st.fixed_dictionaries({"id": ids}), ids),
        "recipient": st.one_of(st.fixed_dictionaries({"id": ids}), ids),
        "timestamp": st.one_of(
            st.integers(min_value=-(10**15), max_value=10**15), st.text(max_size=5)
        ),
        "message": st.one_of(messages, ids),
        "message_edit": st.fixed_dictionaries(
            {"mid": ids}, optional={"text": st.one_of(st.text(max_size=20), st.integers())}
        ),
        "read": st.fixed_dictionaries({"watermark": st.integers()}),
    },
)
values = st.fixed_dictionaries(
    {},
    optional={
        "item": st.sampled_from(["comment", "post", "status", "photo", "video", "reaction", 1]),
        "verb": st.sampled_from(["add", "edited", "edit", "remove", None]),
        "comment_id": ids,
        "post_id": ids,
        "parent_id": ids,
        "id": ids,
        "media_id": ids,
        "from": st.one_of(st.fixed_dictionaries({"id": ids, "name": ids, "username": ids}), ids),
        "sender_id": ids,
        "message": st.one_of(st.text(max_size=20), st.none()),
        "text": st.one_of(st.text(max_size=20), st.none()),
        "photo": ids,
        "photos": st.lists(ids, max_size=2),
        "created_time": st.one_of(
            st.integers(min_value=-(10**12), max_value=10**12), st.text(max_size=8)
        ),
    },
)
changes = st.fixed_dictionaries(
    {
        "field": st.sampled_from(["feed", "mention", "comments", "mentions", "live_comments", "x"]),
        "value": st.one_of(values, ids),
    }
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "time": st.one_of(st.integers(min_value=0, max_value=10**14), st.none()),
        "changes": st.one_of(st.lists(changes, max_size=3), ids),
        "messaging": st.one_of(st.lists(events, max_size=3), ids),
        "standby": st.lists(events, max_size=2),
    },
)
deliveries = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "instagram", "whatsapp_business_account"]),
        "entry": st.one_of(st.lists(entries, max_size=3), ids),
    }
)


@FUZZ
@given(payload=deliveries)
def test_signed_meta_shapes_are_never_a_5xx_and_start_nothing_unreadable(
    payload: dict[str, Any],
) -> None:
    """Whatever a signed Meta-shaped body holds: never a 5xx; Temporal is asked (here: down,
    503) only when an event was read as an inquiry, a brand message or a customer's edit or unsent
    message (each needs its inquiry); every event the answer
    does not take is ignored with a reason or listed as a problem."""
    asked: list[bool] = []

    async def down() -> Client:
        asked.append(True)
        raise CareflowError("cannot reach Temporal")

    raw = json.dumps(payload).encode()
    app = create_app(SECRETS, down, RULESET)
    answer: httpx.Response = asyncio.run(
        request(app, "POST", "/webhooks/meta", content=raw, headers=signed("/webhooks/meta", raw))
    )
    if payload["object"] == "whatsapp_business_account":
        assert answer.status_code == 400
        return
    assert answer.status_code in {200, 503}
    assert (answer.status_code == 503) == bool(asked)
    if answer.status_code == 200:
        said = answer.json()
        assert (said["started"] == [] and said["brand_posts"] == []) or not asked
        for problem in said["problems"]:
            assert problem["where"] and problem["message"]
        for item in said["ignored"]:
            assert item["reason"]


def test_an_edit_an_unsent_message_and_a_follow_up_photo_reach_the_inquiry_view(
    tmp_path: Path,
) -> None:
    """Lena writes, corrects herself, sends a photo, then unsends a message: the status shows
    the new text (the history both), the photo's link, and the unsent one withdrawn."""

    async def scenario(client: Client, app: Any, now: datetime) -> None:
        wid = "inquiry-messenger-61001"
        await deliver_page(
            app, now, [meta_message_event("m_1", LENA, "my parcel nevr came", now, PAGE)]
        )
        await until_status(client, wid, lambda s: True)
        photo = [("image", "https://cdn.example/label.jpg")]
        said = await deliver_page(
            app,
            now,
            [
                meta_message_event("m_2", LENA, "wrong order number", now, PAGE),
                meta_message_event("m_3", LENA, None, now, PAGE, attachments=photo),
                meta_edit_event("m_1", LENA, "my parcel never came", now, PAGE),
                meta_message_event("m_2", LENA, None, now, PAGE, unsent=True),
                meta_edit_event("m_9", OMAR, "no inquiry of mine", now, PAGE),
            ],
        )
        assert said["changed"] == [
            {"id": "m_1", "kind": "edit", "inquiry": wid},
            {"id": "m_2", "kind": "withdrawn", "inquiry": wid},
        ]
        assert [item["id"] for item in said["ignored"]] == ["m_9"]
        status = await until_status(
            client, wid, lambda s: len(s.messages) == 3 and s.messages[1].withdrawn_at is not None
        )
        first, unsent, media = status.messages
        assert first.text == status.inquiry.text == "my parcel never came"
        assert [earlier.text for earlier in first.edited_from] == ["my parcel nevr came"]
        assert (unsent.text, unsent.id) == ("", "m_2")
        assert "wrong order number" not in status.model_dump_json()
        assert [(a.type, a.url) for a in media.attachments] == photo
        assert media.text == "(photo)"
        # The agent API's status is this model as JSON.
        shown = status.model_dump(mode="json")["messages"]
        assert shown[1]["withdrawn_at"] and shown[1]["text"] == ""
        assert shown[2]["attachments"] == [{"type": "image", "url": photo[0][1]}]
        # The agents' queue (the memo) shows the first post as she left it.
        memo = await (await client.get_workflow_handle(wid).describe()).memo()
        assert memo["text"] == "my parcel never came"

    on_dev_server(tmp_path, scenario)


def test_a_feedback_template_answer_reaches_the_customers_open_inquiry_and_no_other(
    tmp_path: Path,
) -> None:
    """Lena answers Messenger's customer-feedback template: the delivery names her inquiry
    under ``rated`` and her rating is a message of it; Omar, who has no open inquiry, starts
    none by rating (his answer is ignored, with why)."""

    async def scenario(client: Client, app: Any, now: datetime) -> None:
        wid = "inquiry-messenger-61001"
        await deliver_page(
            app, now, [meta_message_event("m_1", LENA, "my parcel never came", now, PAGE)]
        )
        await until_status(client, wid, lambda s: True)
        later = now + timedelta(seconds=1)
        said = await deliver_page(
            app,
            now,
            [
                meta_feedback_event(LENA, 4, "quick, thanks", later, account_id=PAGE),
                meta_feedback_event(OMAR, 1, None, later, account_id=PAGE),
            ],
        )
        lena = f"feedback-61001-{int(later.timestamp() * 1000)}"
        assert said["rated"] == [{"id": lena, "inquiry": wid}]
        assert said["started"] == []
        [omar] = said["ignored"]
        assert omar["reason"] == "rating: no open inquiry on this conversation to rate"
        status = await until_status(client, wid, lambda s: len(s.messages) == 2)
        assert (status.messages[1].id, status.messages[1].text) == (lena, "4/5 quick, thanks")

    on_dev_server(tmp_path, scenario)
