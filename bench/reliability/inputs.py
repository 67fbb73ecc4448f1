"""Malformed, forged and oversized inputs for the intake and the agent API: what a stranger, a
buggy platform or a confused client sends. Each is one HTTP request; none may get a 5xx.

Some are strange but valid (a long text, a batch of posts, odd times the intake clamps): the
intake may take those, and then they must be acknowledged like any other post, so each carries
the ``Planned`` posts it holds.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.reliability.stack import RunSecrets
from bench.reliability.traffic import Planned, plan
from careflow.devtools.fake_webhooks import META_SIGNATURE, X_SIGNATURE, signed

GENERIC_SIGNATURE = "X-Careflow-Signature"
MEGABYTE = 1024 * 1024


@dataclass
class Probe:
    """One request and the posts it would start, if the intake takes it."""

    label: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    posts: list[Planned] = field(default_factory=list)


def _hex(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _b64(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Door:
    """A webhook route: its path, signature header and how it signs."""

    name: str
    path: str
    header: str
    secret: str
    base64: bool

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = secret or self.secret
        return _b64(key, body) if self.base64 else _hex(key, body)

    def signed(self, label: str, body: bytes, posts: list[Planned] | None = None) -> Probe:
        headers = {self.header: self.sign(body), "Content-Type": "application/json"}
        return Probe(f"{self.name}: {label}", "POST", self.path, headers, body, posts or [])


def doors(secrets: RunSecrets) -> list[Door]:
    return [
        Door("x", "/webhooks/x", X_SIGNATURE, secrets.x_consumer, True),
        Door("meta", "/webhooks/meta", META_SIGNATURE, secrets.meta_app, False),
        Door("generic", "/webhooks/generic", GENERIC_SIGNATURE, secrets.generic, False),
    ]


def _generic_post(post_id: str) -> bytes:
    return json.dumps(
        {
            "id": post_id,
            "channel": "x",
            "kind": "public",
            "conversation_id": post_id,
            "author": {"id": "5550001", "handle": "forger"},
            "text": "@acme forged",
            "created_at": datetime.now(UTC).isoformat(),
        }
    ).encode()


def forged(secrets: RunSecrets) -> Iterator[Probe]:
    """Valid bodies whose signature is missing, malformed, or made with another secret."""
    x_body = signed(plan(1, ("x-mention",))[0].event, secrets.webhooks)[0]
    meta_body = signed(plan(1, ("facebook-comment",))[0].event, secrets.webhooks)[0]
    bodies = {"x": x_body, "meta": meta_body, "generic": _generic_post("1869999999999999001")}
    for door in doors(secrets):
        body = bodies[door.name]
        for label, value in (
            ("no signature", None),
            ("empty signature", ""),
            ("sha256= and nothing", "sha256="),
            ("another secret", door.sign(body, "not-the-secret")),
            ("a signature of another body", door.sign(body + b" ")),
            ("sha1", "sha1=" + hashlib.sha1(body).hexdigest()),
            ("not hex or base64", "sha256=zz!!zz"),
            ("an 8 KB signature", "sha256=" + "a" * 8000),
            ("the signature twice", f"{door.sign(body)},{door.sign(body)}"),
        ):
            headers = {"Content-Type": "application/json"}
            if value is not None:
                headers[door.header] = value
            yield Probe(f"{door.name}: {label}", "POST", door.path, headers, body)


BAD_JSON: list[tuple[str, bytes]] = [
    ("empty body", b""),
    ("half an object", b'{"for_user_id": '),
    ("an array", b"[]"),
    ("null", b"null"),
    ("a number", b"123"),
    ("a string", b'"hello"'),
    ("not UTF-8", b"\xff\xfe\xfd{}"),
    ("NaN", b'{"a": NaN}'),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("a 5,000-digit number", b'{"for_user_id": ' + b"9" * 5000 + b"}"),
    ("1e999999", b'{"object": "page", "entry": 1e999999}'),
    ("a NUL byte", b'{"object": "page\x00"}'),
]


def bad_json(secrets: RunSecrets) -> Iterator[Probe]:
    """Correctly signed bodies that are not JSON, or not the JSON the door wants."""
    for door in doors(secrets):
        for label, body in BAD_JSON:
            yield door.signed(label, body)


def oversized(secrets: RunSecrets) -> Iterator[Probe]:
    """Bodies past the intake's megabyte, a post just under it, and a large batch."""
    x, _, generic = doors(secrets)
    past = b'{"pad": "' + b"a" * MEGABYTE + b'"}'
    yield x.signed("1 MB and a bit, signed", past)
    yield Probe("x: 1 MB and a bit, unsigned", "POST", x.path, {}, past)
    yield generic.signed("8 MB, signed", b'{"pad": "' + b"b" * (8 * MEGABYTE) + b'"}')
    long_post = plan(1, ("x-mention",))[0]
    tweet = long_post.event.body["tweet_create_events"][0]
    tweet["text"] = "@acme " + "where is my order " * 50_000  # 900 KB of text
    yield x.signed("a 900 KB tweet", json.dumps(long_post.event.body).encode(), [long_post])
    batch = plan(50, ("x-mention",))
    events = [post.event.body["tweet_create_events"][0] for post in batch]
    body = {"for_user_id": batch[0].event.body["for_user_id"], "tweet_create_events": events}
    yield x.signed("50 mentions in one delivery", json.dumps(body).encode(), batch)


def _mutated(door_name: str, path: list[str | int], value: Any) -> tuple[Planned, bytes]:
    """A fresh post (one of the door's) with one field changed."""
    post = plan(1, (door_name,))[0]
    body = copy.deepcopy(post.event.body)
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return post, json.dumps(body).encode()


TWEET: list[str | int] = ["tweet_create_events", 0]
DM: list[str | int] = ["direct_message_events", 0]
COMMENT: list[str | int] = ["entry", 0, "changes", 0, "value"]
MESSAGE: list[str | int] = ["entry", 0, "messaging", 0]

# (door, field path, value, whether the post keeps its ids and may be taken).
ODD_FIELDS: list[tuple[str, list[str | int], Any, bool]] = [
    ("x-mention", [*TWEET, "id_str"], "abc", False),
    ("x-mention", [*TWEET, "id_str"], "-1", False),
    ("x-mention", [*TWEET, "id_str"], "0", False),
    ("x-mention", [*TWEET, "id_str"], "1" * 400, False),
    ("x-mention", [*TWEET, "id_str"], "../../etc/passwd", False),
    ("x-mention", [*TWEET, "id_str"], "١٢٣٤", False),
    ("x-mention", [*TWEET, "id_str"], "", False),
    ("x-mention", [*TWEET, "id_str"], 12.5, False),
    ("x-mention", [*TWEET, "user", "id_str"], "", False),
    ("x-mention", [*TWEET, "user", "id_str"], "x" * 1000, False),
    ("x-mention", [*TWEET, "user", "screen_name"], "h" * 20_000, True),
    ("x-mention", [*TWEET, "user", "followers_count"], -5, True),
    ("x-mention", [*TWEET, "user", "followers_count"], 10**30, True),
    ("x-mention", [*TWEET, "user", "followers_count"], "many", True),
    ("x-mention", [*TWEET, "user"], [], False),
    ("x-mention", [*TWEET, "text"], None, False),
    ("x-mention", [*TWEET, "text"], 5, False),
    ("x-mention", [*TWEET, "text"], "", True),
    ("x-mention", [*TWEET, "text"], "\u202e\u0000\ufeff@acme ☃ \U0001f4a9 ctrl", True),
    ("x-mention", [*TWEET, "created_at"], "garbage", True),
    ("x-mention", [*TWEET, "created_at"], "Mon Jan 01 00:00:00 +0000 0001", True),
    ("x-mention", [*TWEET, "created_at"], "Fri Dec 31 23:59:59 +0000 9999", True),
    ("x-mention", [*TWEET, "created_at"], "", True),
    ("x-mention", [*TWEET, "created_at"], 1234567890, True),
    ("x-dm", [*DM, "created_timestamp"], "nan", True),
    ("x-dm", [*DM, "created_timestamp"], "-1", True),
    ("x-dm", [*DM, "created_timestamp"], "9" * 30, True),
    ("x-dm", [*DM, "id"], "not-an-id", False),
    ("x-dm", [*DM, "message_create", "sender_id"], "../1", False),
    ("facebook-comment", [*COMMENT, "created_time"], -1, True),
    ("facebook-comment", [*COMMENT, "created_time"], 10**20, True),
    ("facebook-comment", [*COMMENT, "created_time"], "soon", True),
    ("facebook-comment", [*COMMENT, "comment_id"], "1_2_3/../4", False),
    ("facebook-comment", [*COMMENT, "from"], "someone", False),
    ("instagram-comment", [*COMMENT, "id"], "", False),
    ("instagram-comment", [*COMMENT, "text"], {"nested": True}, False),
    ("messenger", [*MESSAGE, "timestamp"], "later", True),
    ("messenger", [*MESSAGE, "sender", "id"], "", False),
    ("messenger", [*MESSAGE, "message", "mid"], None, False),
    ("messenger", ["object"], "whatsapp", False),
]


def odd_fields(secrets: RunSecrets) -> Iterator[Probe]:
    """Signed platform payloads with one id, time, type or text made strange."""
    x, meta, _ = doors(secrets)
    for door_name, path, value, keep in ODD_FIELDS:
        post, body = _mutated(door_name, path, value)
        door = x if door_name.startswith("x-") else meta
        label = f"{'.'.join(str(step) for step in path)} = {str(value)[:40]!r}"
        yield door.signed(label, body, [post] if keep else [])


def handshakes(secrets: RunSecrets) -> Iterator[Probe]:
    """The platforms' subscription checks, asked wrongly."""
    yield Probe("x crc: no token", "GET", "/webhooks/x")
    yield Probe("x crc: empty token", "GET", "/webhooks/x?crc_token=")
    yield Probe("x crc: a 6 KB token", "GET", "/webhooks/x?crc_token=" + "t" * 6000)
    yield Probe("x crc: percent-encoded junk", "GET", "/webhooks/x?crc_token=%ff%00%fe")
    meta = "/webhooks/meta?hub.mode=subscribe&hub.challenge=42&hub.verify_token="
    yield Probe("meta verify: wrong token", "GET", meta + "wrong")
    yield Probe("meta verify: no token", "GET", "/webhooks/meta?hub.mode=subscribe")
    yield Probe(
        "meta verify: wrong mode",
        "GET",
        meta.replace("subscribe", "unsubscribe") + secrets.meta_verify,
    )
    yield Probe(
        "meta verify: 6 KB challenge", "GET", meta.replace("42", "c" * 6000) + secrets.meta_verify
    )


def agent_api(secrets: RunSecrets) -> Iterator[Probe]:
    """The agent API without a token, with a wrong one, with odd ids and bodies."""
    good = {"Authorization": f"Bearer {secrets.agent_token}", "Content-Type": "application/json"}
    yield Probe("queue: no token", "GET", "/queue")
    yield Probe("queue: wrong token", "GET", "/queue", {"Authorization": "Bearer nope"})
    yield Probe("queue: Basic auth", "GET", "/queue", {"Authorization": "Basic YTpi"})
    yield Probe("queue: 'Bearer' alone", "GET", "/queue", {"Authorization": "Bearer"})
    yield Probe("queue: bad filter", "GET", "/queue?queue=%00&limit=-1", good)
    yield Probe("status: no such inquiry", "GET", "/inquiries/inquiry-x-1", good)
    yield Probe("status: a 5 KB id", "GET", "/inquiries/" + "i" * 5000, good)
    yield Probe("status: a path in the id", "GET", "/inquiries/../../etc/passwd", good)
    reply = "/inquiries/inquiry-x-1/reply"
    yield Probe("reply: not JSON", "POST", reply, good, b"{")
    yield Probe("reply: no text", "POST", reply, good, b"{}")
    yield Probe("reply: text a number", "POST", reply, good, b'{"text": 5}')
    yield Probe(
        "reply: 2 MB of text",
        "POST",
        reply,
        good,
        json.dumps({"text": "x" * 2 * MEGABYTE}).encode(),
    )
    yield Probe("reply: no token", "POST", reply, {}, b'{"text": "hi"}')


def odd_requests(secrets: RunSecrets) -> Iterator[Probe]:
    """Methods and paths nobody should use."""
    x = doors(secrets)[0]
    yield Probe("PUT a webhook", "PUT", x.path, {}, b"{}")
    yield Probe("DELETE a webhook", "DELETE", x.path)
    yield Probe("unknown path", "GET", "/webhooks/myspace")
    yield Probe("a 6 KB query", "GET", "/health?" + "q" * 6000)
    yield Probe("a text/plain delivery", "POST", x.path, {"Content-Type": "text/plain"}, b"hello")


def all_probes(secrets: RunSecrets) -> list[Probe]:
    return [
        *forged(secrets),
        *bad_json(secrets),
        *oversized(secrets),
        *odd_fields(secrets),
        *handshakes(secrets),
        *agent_api(secrets),
        *odd_requests(secrets),
    ]
