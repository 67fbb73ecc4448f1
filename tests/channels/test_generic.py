"""The generic JSON door: the body is one inquiry, and every wrong field is listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from careflow.channels import generic
from careflow.channels.common import PayloadError
from tests.harness import example

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_a_valid_body_is_the_inquiry_it_says() -> None:
    question = example("question", AT, conversation_id="c-1001", id="p-1001")
    assert generic.inquiry(json.loads(question.model_dump_json())) == question


def test_an_invalid_inquiry_lists_every_wrong_field() -> None:
    body = json.loads(example("question", AT).model_dump_json())
    del body["author"]["handle"]
    body["kind"] = "shout"
    with pytest.raises(PayloadError) as raised:
        generic.inquiry(body)
    assert raised.value.status == 422
    assert raised.value.message == "the body is not a valid inquiry (schemas/inquiry.schema.json)"
    assert {problem["field"] for problem in raised.value.problems} == {"author.handle", "kind"}
    assert "shout" not in json.dumps(raised.value.problems)  # no input values: customer text


def test_a_body_that_is_not_an_object_is_a_422() -> None:
    with pytest.raises(PayloadError) as raised:
        generic.inquiry([1])
    assert (raised.value.status, raised.value.message) == (
        422,
        "the body must be an inquiry object, got an array",
    )
