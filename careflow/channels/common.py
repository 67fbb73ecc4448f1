"""What every platform's normalizer shares: the result types, JSON parsing, the field readers
that name the exact place a payload is wrong, and the brand's own accounts.

``careflow.http.webhooks`` verifies a delivery's signature, then hands the parsed JSON to one of
``careflow.channels.x``, ``.meta`` or ``.generic``: pure functions, no I/O, no Temporal. Each
returns the inquiries the delivery holds and what it ignored (the brand's own posts, likes, read
receipts…). The generic and X doors raise ``PayloadError`` naming the first thing that is wrong,
before anything is started (a delivery taken in whole or not at all); Meta's isolates each event
(``isolated``): one it cannot read is a ``Problem`` beside the others, never their refusal, since
Meta retries a refused delivery whole and would refuse the good events on every retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from careflow.channels.ids import id_problems
from careflow.engine.messenger_feedback import FeedbackAnswer
from careflow.engine.post import Inquiry
from careflow.settings import BrandAccounts

MILLISECONDS_FROM = 10**11  # epoch numbers above this are milliseconds (year 5138 in seconds)
ECHO = "echo: the brand's own post (not an inquiry)"


class PayloadError(ValueError):
    """A delivery careflow cannot take in: ``status`` 400 (not JSON, not a payload careflow
    knows) or 422 (the right kind of payload with a field missing or of the wrong type)."""

    def __init__(self, status: int, message: str, problems: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


@dataclass(frozen=True)
class Ignored:
    """An event of the delivery that starts nothing, and why."""

    id: str | None
    reason: str

    def as_json(self) -> dict[str, str | None]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class Problem:
    """An event of the delivery careflow could not read: where it is and what is wrong with it
    (field names and kinds, never the customer's text), so ops can find it in the delivery."""

    id: str | None
    where: str
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"id": self.id, "where": self.where, "message": self.message}


@dataclass(frozen=True)
class Echo:
    """The brand's own post or message, normalized like an inquiry whose ``conversation_id`` is
    the customer's conversation: a reply made natively on the platform (or careflow's own post
    coming back), which the conversation's inquiry records as an agent message."""

    post: Inquiry


@dataclass(frozen=True)
class Change:
    """A customer's edit or withdrawal (unsent) of a message they sent earlier: it changes the
    view of a message the conversation's open inquiry already has, never starts one."""

    kind: Literal["edit", "withdrawn"]
    id: str  # the edited or withdrawn message's platform id
    channel: str
    private: bool
    conversation_id: str
    author: dict[str, Any]  # id, handle, name (as the normalizer knows them)
    at: datetime
    text: str | None = None  # an edit's new text

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind}


@dataclass(frozen=True)
class Feedback:
    """A customer's answer to Messenger's customer-feedback template (``messaging_feedback``):
    their rating for the conversation's open inquiry, never the start of one."""

    id: str  # made from the customer and the time: Meta gives the answer no id of its own
    channel: str
    conversation_id: str
    author: dict[str, Any]
    at: datetime
    answer: FeedbackAnswer

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "rating", "score": self.answer.score}


@dataclass
class Normalized:
    """What one delivery holds: ``received`` events, as inquiries, echoes, ignored or
    problems."""

    inquiries: list[Inquiry] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    echoes: list[Inquiry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # edits and unsent messages
    feedback: list[Feedback] = field(default_factory=list)  # answers to a feedback template
    # Post id → the post it replies to, where the platform says (X): intake finds the inquiry.
    in_reply_to: dict[str, str] = field(default_factory=dict)

    @property
    def received(self) -> int:
        taken = len(self.inquiries) + len(self.echoes) + len(self.changes) + len(self.feedback)
        return taken + len(self.ignored) + len(self.problems)

    def add(self, item: Inquiry | Echo | Ignored | Change | Feedback) -> None:
        """One event, sorted into the list it belongs to (one place, for every platform)."""
        if isinstance(item, Feedback):
            self.feedback.append(item)
        elif isinstance(item, Inquiry):
            self.inquiries.append(item)
        elif isinstance(item, Echo):
            self.echoes.append(item.post)
        elif isinstance(item, Change):
            self.changes.append(item)
        else:
            self.ignored.append(item)


def isolated(
    found: Normalized,
    where: str,
    read: Callable[[], Inquiry | Echo | Ignored | Change | Feedback],
    event_id: str | None = None,
) -> None:
    """One event read into ``found``, or, when it cannot be read, a ``Problem`` at ``where``
    in its place: the events beside it are taken all the same."""
    try:
        found.add(read())
    except PayloadError as error:
        found.problems.append(Problem(event_id, where, error.message))


def events_at(found: Normalized, container: dict[str, Any], key: str, where: str) -> list[Any]:
    """``container[key]``, a delivery's list of events (absent: none); anything else is a
    ``Problem`` at ``where``, not a refusal of the events beside it."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        found.problems.append(Problem(None, where, f"expected an array, got {kind_of(value)}"))
        return []
    return value


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or a 400 that says why not."""
    try:
        data = json.loads(raw)
        # JSON may escape a lone surrogate ("\\ud800"): Python reads it, nothing can encode it.
        json.dumps(data, ensure_ascii=False).encode()
        return data
    except UnicodeEncodeError:
        raise PayloadError(400, "the body has a string with an unpaired surrogate escape") from None
    except UnicodeDecodeError:
        raise PayloadError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise PayloadError(
            400, f"the body is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise PayloadError(400, f"the body is not usable JSON: {error}") from None
    except RecursionError:
        raise PayloadError(400, "the body is JSON nested too deeply") from None


# ---------------------------------------------------------------------- reading fields
# Each reader takes ``where``, the field's path in the payload, so a 422 says where to look.


def object_at(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a 422 naming ``where``."""
    if not isinstance(value, dict):
        raise PayloadError(422, f"{where}: expected an object, got {kind_of(value)}")
    return value


def list_at(value: Any, where: str) -> list[Any]:
    """``value`` if it is a JSON array, else a 422 naming ``where``."""
    if not isinstance(value, list):
        raise PayloadError(422, f"{where}: expected an array, got {kind_of(value)}")
    return value


def id_at(obj: dict[str, Any], key: str, where: str) -> str:
    """A platform id: a non-empty string, or an integer (as Meta sends some)."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    if value is None:
        raise PayloadError(422, f"{where}.{key}: missing")
    raise PayloadError(422, f"{where}.{key}: expected an id (string), got {kind_of(value)}")


def optional_id_at(obj: dict[str, Any], key: str, where: str) -> str | None:
    """An id that may be absent (None or ""), but is an id when it is there."""
    return None if obj.get(key) in (None, "") else id_at(obj, key, where)


def text_at(obj: dict[str, Any], key: str, where: str) -> str:
    """A string field that must be there (it may be empty)."""
    value = obj.get(key)
    if not isinstance(value, str):
        missing = "missing" if value is None else f"expected a string, got {kind_of(value)}"
        raise PayloadError(422, f"{where}.{key}: {missing}")
    return value


def kind_of(value: Any) -> str:
    """The JSON kind of ``value``, for messages ("an object", "null"…)."""
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def epoch_at(value: Any, where: str) -> datetime:
    """Seconds or milliseconds since the epoch (a number or a numeric string)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(422, f"{where}: expected a timestamp, got {kind_of(value)}")
    seconds = value / 1000 if value >= MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(422, f"{where}: {value} is not a usable timestamp") from None


def inquiry_at(where: str, **fields: Any) -> Inquiry:
    """The inquiry a platform event makes, or a 422 at ``where`` with pydantic's first problem."""
    try:
        post = Inquiry.model_validate(fields)
    except ValidationError as error:
        raise PayloadError(422, f"{where}: {validation_problems(error)[0]['message']}") from None
    return checked(post, where)


def checked(post: Inquiry, where: str) -> Inquiry:
    """``post`` if Temporal and URLs can take its ids (``careflow.channels.ids``), else a 422
    whose problems name each field (under ``where``) and why. Every door calls it: the X and
    Meta normalizers (through ``inquiry_at``), the generic webhook and ``careflow submit``."""
    problems = [
        {"field": f"{where}.{field}" if where else field, "message": why}
        for field, why in id_problems(post)
    ]
    if not problems:
        return post
    first = problems[0]
    raise PayloadError(422, f"{first['field']} {first['message']}", problems)


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as ``{"field", "message"}`` pairs (no input values: customer text)."""
    return [
        {
            "field": ".".join(str(part) for part in detail["loc"]) or "(top level)",
            "message": detail["msg"],
        }
        for detail in error.errors(include_input=False, include_url=False)
    ]


# ---------------------------------------------------------------------- the brand


def brand_ids(ids: Iterable[str | None]) -> set[str]:
    """The brand's account ids a delivery may name (the configured one, the payload's own)."""
    return {value for value in ids if value}


def echo_if(post: Inquiry, by_brand: bool) -> Inquiry | Echo:
    """The brand's own post is an echo; anyone else's is an inquiry."""
    return Echo(post) if by_brand else post


def is_brand_author(inquiry: Inquiry, brand_accounts: BrandAccounts) -> bool:
    """Whether a normalized inquiry was written by one of the brand's configured accounts."""
    accounts = {
        "x": brand_accounts.x_user_id,
        "facebook": brand_accounts.page_id,
        "messenger": brand_accounts.page_id,
        "instagram": brand_accounts.instagram_id,
    }
    brand = accounts.get(inquiry.channel)
    return brand is not None and inquiry.author.id == brand
