"""What the intake guards at the door, for every platform: ids Temporal and URLs can take (422
naming the field, never 503), post times the clocks can trust (clamped and said so), and rule
evaluation off the event loop (a post whose rules are slow does not hold up other requests)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.temporal.intake import firehose
from tests.channels.payloads import meta_page_delivery, tweet
from tests.harness import example, round_the_clock_pack
from tests.http.test_webhook_intake import SECRETS, call, never_connect, request, signed

EMOJI_300 = "\N{GRINNING FACE}" * 300  # 300 characters, 1200 bytes: Temporal said 503 for ever
FAR_FUTURE = "9999-12-31T23:59:59Z"


def post(path: str, payload: Any) -> httpx.Response:
    body = json.dumps(payload).encode()
    return call("POST", path, content=body, headers=signed(path, body))


def test_an_id_temporal_cannot_take_is_named_at_every_door() -> None:
    generic = json.loads(example("question", datetime.now(UTC)).model_dump_json())
    generic["conversation_id"] = EMOJI_300
    answer = post("/webhooks/generic", generic)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"field": "conversation_id", "message": "is too long: 1200 bytes in UTF-8, at most 512"}
    ]
    assert answer.json()["error"] == "conversation_id is too long: 1200 bytes in UTF-8, at most 512"

    mention = tweet("1870000000000000001", "41001", "maya_r", "@acme hi", datetime.now(UTC))
    mention["conversation_id_str"] = "1870000000000000000\x00"
    answer = post("/webhooks/x", {"for_user_id": "9990001", "tweet_create_events": [mention]})
    assert answer.status_code == 200  # X's events are isolated: a problem in a 200, not a retry
    (problem,) = answer.json()["problems"]
    assert (problem["id"], problem["where"]) == ("1870000000000000001", "tweet_create_events[0]")
    assert problem["message"].startswith("tweet_create_events[0].conversation_id ")
    assert "U+0000" in problem["message"]

    page = meta_page_delivery(datetime.now(UTC))
    page["entry"][0]["changes"][0]["value"]["comment_id"] = "700/../801"
    del page["entry"][0]["messaging"]  # the events beside it would be taken (Temporal needed)
    answer = post("/webhooks/meta", page)  # Meta's events are isolated: a problem in a 200
    assert answer.status_code == 200
    (problem,) = answer.json()["problems"]
    assert problem["where"] == "entry[0].changes[0]"
    assert problem["message"].startswith("entry[0].changes[0].value.conversation_id ")

    generic["conversation_id"] = "   "
    assert post("/webhooks/generic", generic).status_code == 422


def test_a_post_time_from_year_9999_is_the_time_received_and_the_answer_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropped by the spam rule after clamping, so no Temporal is needed to see the answer."""
    spam = json.loads(example("spam-giveaway", datetime.now(UTC)).model_dump_json())
    spam["created_at"] = FAR_FUTURE
    before = datetime.now(UTC)
    with caplog.at_level(logging.INFO, logger="careflow.http.webhooks"):
        answer = post("/webhooks/generic", spam)
    assert answer.status_code == 200, answer.text
    (clamped,) = answer.json()["clamped"]
    assert clamped["id"] == spam["id"]
    assert clamped["created_at"].startswith("9999-12-31T23:59:59")
    assert "in the future" in clamped["reason"]
    assert before <= datetime.fromisoformat(clamped["used"]) <= datetime.now(UTC)
    assert any(
        record.levelno == logging.INFO and "9999-12-31" in record.getMessage()
        for record in caplog.records
    )

    old = tweet("1", "41001", "maya_r", "giveaway! follow back", datetime(2005, 1, 1, tzinfo=UTC))
    answer = post("/webhooks/x", {"for_user_id": "9990001", "tweet_create_events": [old]})
    assert answer.json()["clamped"][0]["reason"] == "before x existed (2006-03-21)"


# ---------------------------------------------------------------------- one post, not all


def slow_pack(directory: Path) -> Path:
    """The default pack plus 300 received rules whose patterns backtrack over a long word
    (quadratic in Python's ``re``, and with no literal for the prefilter to skip them by),
    and a last one that drops the post (so the test needs no Temporal). Many short matches, not
    one long one: ``re`` holds the GIL for a whole match, so a thread frees the event loop only
    between matches (and rules read at most a channel's limit of text, so matches stay short)."""
    scans = "".join(
        f"""
  - name: scan-{number}
    on: received
    when: {{text: {{matches: "[a-z]+[0-9]{{{number + 1}}}"}}}}
    do: [{{tag: scanned}}]
"""
        for number in range(300)
    )
    drop = """
  - name: drop-the-end
    on: received
    when: {text: {matches: "the end$"}}
    do: [{drop: spam}]
"""
    return round_the_clock_pack(directory, scans + drop)


def test_a_slow_evaluation_does_not_hold_up_other_requests(tmp_path: Path) -> None:
    ruleset = load_ruleset(slow_pack(tmp_path))
    slow = example("question", datetime.now(UTC), text="a" * 1_200 + " the end")
    started = time.perf_counter()
    assert firehose(slow, ruleset) is not None  # dropped, by the last rule
    evaluation = time.perf_counter() - started
    assert evaluation > 0.5, "the evaluation is not slow enough to show anything"

    app = create_app(SECRETS, never_connect, ruleset)
    body = slow.model_dump_json().encode()

    async def scenario() -> tuple[float, float]:
        """When each answer came, from the moment the slow post was sent."""
        begin = time.perf_counter()

        async def slow_post() -> float:
            headers = signed("/webhooks/generic", body)
            answer = await request(app, "POST", "/webhooks/generic", content=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["dropped"], answer.text
            return time.perf_counter() - begin

        async def small_get() -> float:
            await asyncio.sleep(evaluation / 4)  # the slow post is being evaluated by now
            assert (await request(app, "GET", "/openapi.json")).status_code == 200
            return time.perf_counter() - begin

        slow_done, small_done = await asyncio.gather(slow_post(), small_get())
        return slow_done, small_done

    slow_done, small_done = asyncio.run(scenario())
    # Asked a quarter of the way in, answered well before the slow post was: both measured in
    # the same run, so a loaded machine slows them alike.
    assert small_done < slow_done * 0.6, (small_done, slow_done, evaluation)
