"""What every normalizer shares: JSON parsing, the field readers' located errors, sorting
events, and knowing the brand's own accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careflow.channels.common import (
    Echo,
    Ignored,
    Normalized,
    PayloadError,
    epoch_at,
    id_at,
    is_brand_author,
    list_at,
    object_at,
    optional_id_at,
    parse_json,
    text_at,
)
from careflow.settings import BrandAccounts
from tests.harness import example

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "the body is not JSON: Expecting property name enclosed in double quotes"),
        (b'"\xff"', "the body is not UTF-8 text"),
        (b'{"a": "\\ud800"}', "the body has a string with an unpaired surrogate escape"),
        (b"[" * 100_000 + b"]" * 100_000, "the body is JSON nested too deeply"),
    ],
)
def test_a_body_that_is_not_usable_json_is_a_400_saying_why(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_json(raw)
    assert raised.value.status == 400
    assert raised.value.message.startswith(message)


def test_json_is_parsed() -> None:
    assert parse_json(b'{"object": "page", "entry": []}') == {"object": "page", "entry": []}


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: object_at(None, "entry[0].value"), "entry[0].value: expected an object, got null"),
        (lambda: list_at({}, "entry"), "entry: expected an array, got an object"),
        (lambda: id_at({}, "id", "entry[0]"), "entry[0].id: missing"),
        (lambda: id_at({"id": ""}, "id", "e"), "e.id: expected an id (string), got a string"),
        (lambda: id_at({"id": True}, "id", "e"), "e.id: expected an id (string), got a boolean"),
        (lambda: text_at({}, "text", "m"), "m.text: missing"),
        (lambda: text_at({"text": 3}, "text", "m"), "m.text: expected a string, got a number"),
        (lambda: epoch_at([], "e.time"), "e.time: expected a timestamp, got an array"),
        (lambda: epoch_at(10**30, "e.time"), f"e.time: {10**30} is not a usable timestamp"),
    ],
)
def test_each_reader_names_the_place_a_field_is_wrong(read: Any, message: str) -> None:
    with pytest.raises(PayloadError) as raised:
        read()
    assert (raised.value.status, raised.value.message) == (422, message)


def test_ids_may_be_numbers_and_optional_ids_may_be_absent() -> None:
    assert id_at({"id": 700}, "id", "e") == "700"
    assert optional_id_at({"id": ""}, "id", "e") is None
    assert optional_id_at({}, "id", "e") is None
    assert optional_id_at({"id": "9"}, "id", "e") == "9"


def test_epochs_are_seconds_or_milliseconds_numbers_or_digits() -> None:
    seconds = int(AT.timestamp())
    assert epoch_at(seconds, "t") == AT
    assert epoch_at(seconds * 1000, "t") == AT
    assert epoch_at(str(seconds * 1000), "t") == AT


def test_a_normalized_delivery_sorts_and_counts_its_events() -> None:
    post = example("question", AT)
    found = Normalized()
    found.add(post)
    found.add(Echo(post))
    found.add(Ignored("fav-1", "favorite_events: not inquiries"))
    assert (found.inquiries, found.echoes, found.received) == ([post], [post], 3)
    assert found.ignored[0].as_json() == {"id": "fav-1", "reason": "favorite_events: not inquiries"}


def test_the_brand_author_is_the_configured_account_of_the_posts_channel() -> None:
    post = example("question", AT)  # on X
    mine = post.model_copy(update={"author": post.author.model_copy(update={"id": "9990001"})})
    assert is_brand_author(mine, BrandAccounts(x_user_id="9990001"))
    assert not is_brand_author(post, BrandAccounts(x_user_id="9990001"))
    assert not is_brand_author(mine, BrandAccounts(page_id="9990001"))  # another channel's id
    assert not is_brand_author(mine, BrandAccounts())
