"""The signed webhook routes: platform deliveries in, inquiries started.

Every delivery goes through the same door: the platform's secret must be configured (else 503
naming the variable), the HMAC-SHA256 signature over the raw body must match (else 401, compared
in constant time), the payload must parse and normalize (``careflow.channels``; else 400 or 422
saying what is wrong, and nothing is started; X's and Meta's deliveries, which hold many events,
are read event by event instead, an event that cannot be read being a *problem*: logged in one line, counted in
``careflow_intake_problems`` and listed in the answer's ``problems``, while the events beside it
are taken and the answer is 200), and then each inquiry goes through
``careflow.temporal.intake.intake``: the firehose filter (in a worker thread, so a huge post does
not hold up other requests), then signal-with-start on ``inquiry-<channel>-<conversation>``, so a
platform's retry of a delivery reaches the same workflow, is recorded once and is answered as a
duplicate. Ids Temporal or the agent API's URLs cannot take are a 422 naming the field
(``careflow.channels.ids``); a post time in the future or from before the platform existed is
replaced by the time received, and the answer's ``clamped`` says so (``careflow.channels.times``). The brand's own posts (echoes: replies made in the platform's own
app, or careflow's posts coming back) start nothing: each is signalled to its conversation's open
inquiry, which records it as an agent message (and recognises its own posts by id). When
Temporal cannot be reached the answer is 503, which platforms retry. Customer text is never
logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from temporalio.exceptions import TemporalError

from careflow.channels import generic, meta, x_activity
from careflow.channels.common import (
    ECHO,
    Change,
    Ignored,
    Normalized,
    PayloadError,
    Problem,
    is_brand_author,
    parse_json,
)
from careflow.channels.times import Clamped, clamp_times
from careflow.engine.messenger_feedback import answer_text
from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Ruleset
from careflow.errors import CareflowError
from careflow.http.agent import ClientGetter
from careflow.http.body import read_body
from careflow.http.profile_names import ProfileNames
from careflow.settings import BrandAccounts, Settings
from careflow.telemetry import count_intake_problems
from careflow.temporal.customers import CustomerIds, customer_ids
from careflow.temporal.intake import (
    Triage,
    intake,
    record_brand_post,
    record_change,
    record_feedback,
    triage_off_loop,
)

# The intake's lines keep the logger name they always had: `careflow service --demo` quiets it.
log = logging.getLogger("careflow.http.webhooks")
MAX_BODY = 1024 * 1024  # platforms batch a few events; a megabyte is not a webhook delivery

GENERIC_SIGNATURE = "X-Careflow-Signature"
X_SIGNATURE = "x-twitter-webhooks-signature"
META_SIGNATURE = "X-Hub-Signature-256"

Signature = Callable[[bytes], str]  # the header value a body signed with the secret must carry


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _missing(variable: str, what: str) -> JSONResponse:
    return _error(
        503, f"{variable} is not set: {what} is off until it is", missing_variable=variable
    )


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def hex_signature(secret: str) -> Signature:
    """Meta's and the generic door's form: ``sha256=<hex>``."""
    return lambda body: "sha256=" + _hmac(secret, body).hex()


def base64_signature(secret: str) -> Signature:
    """X's form (deliveries and the CRC answer): ``sha256=<base64>``."""
    return lambda body: "sha256=" + base64.b64encode(_hmac(secret, body)).decode()


def _signature_refusal(offered: str | None, expected: str, header: str) -> JSONResponse | None:
    """None when ``offered`` (the header's value) equals ``expected``; else a 401."""
    if not offered or not offered.strip():
        return _error(401, f"the {header} header is missing: deliveries must be signed")
    # Header values arrive decoded as latin-1, so this encoding gives back the bytes sent.
    if hmac.compare_digest(offered.strip().encode("latin-1"), expected.encode("ascii")):
        return None
    return _error(401, f"the {header} signature does not match the body")


async def _signed_payload(request: Request, header: str, expected: Signature) -> Any:
    """The parsed JSON of a delivery whose signature matches, or the response refusing it."""
    body = await read_body(request, MAX_BODY)
    if body is None:
        return _error(413, f"the body is larger than {MAX_BODY} bytes")
    refusal = _signature_refusal(request.headers.get(header), expected(body), header)
    if refusal is not None:
        client = request.client.host if request.client else "?"
        log.warning("refused a delivery to %s from %s: signature", request.url.path, client)
        return refusal
    return parse_json(body)


PLATFORMS = ("generic", "x", "meta")


def normalize(platform: str, data: Any, brand: BrandAccounts) -> Normalized:
    """A parsed delivery read by its platform's normalizer (``careflow.channels``)."""
    if platform == "x":
        return x_activity.webhook(data, brand)  # Account Activity or X Activity API
    if platform == "meta":
        return meta.webhook(data, brand)
    if platform == "generic":
        return Normalized(inquiries=[generic.inquiry(data)])
    raise ValueError(f"no webhook door for platform {platform!r}")


@dataclass
class Screened:
    """A delivery read and judged, before anything reaches Temporal: what the webhook routes
    then take in, and what ``careflow intake explain`` prints. One function makes it
    (``screen``), so the two never disagree."""

    found: Normalized  # the normalizer's result, times clamped
    clamps: list[Clamped]
    taken: list[tuple[Inquiry, Triage]] = field(default_factory=list)  # to start or reach
    dropped: list[tuple[Inquiry, Triage]] = field(default_factory=list)  # by received rules
    echoes: list[Inquiry] = field(default_factory=list)  # the brand's own posts

    @property
    def changes(self) -> list[Change]:
        return self.found.changes

    @property
    def ignored(self) -> list[Ignored]:
        return self.found.ignored

    @property
    def problems(self) -> list[Problem]:
        return self.found.problems


async def screen(
    platform: str, data: Any, brand: BrandAccounts, rules: Ruleset, received_at: datetime
) -> Screened:
    """Normalize a parsed delivery (in a worker thread: a megabyte of posts takes a while),
    make each post's time plausible, take the brand's own accounts' posts for echoes, and run
    the firehose filter on the rest. Raises ``PayloadError`` for a body the door refuses."""
    found = await asyncio.to_thread(normalize, platform, data, brand)
    found, clamps = clamp_times(found, received_at)
    screened = Screened(found, clamps, echoes=list(found.echoes))
    for inquiry in found.inquiries:
        if is_brand_author(inquiry, brand):
            screened.echoes.append(inquiry)
            continue
        verdict = await triage_off_loop(inquiry, rules)
        (screened.dropped if verdict.dropped is not None else screened.taken).append(
            (inquiry, verdict)
        )
    return screened


def _refused(error: PayloadError) -> JSONResponse:
    extra = {"problems": error.problems} if error.problems else {}
    return _error(error.status, error.message, **extra)


def webhook_routes(settings: Settings, rules: Ruleset, get_client: ClientGetter) -> list[BaseRoute]:
    """``POST /webhooks/generic``, ``GET|POST /webhooks/x``, ``GET|POST /webhooks/meta``.

    ``rules`` is the firehose filter; ``get_client`` connects to Temporal on the first delivery
    that needs it, and a failure to connect is a ``CareflowError`` or ``TemporalError`` (503).
    """
    names = ProfileNames(settings.platform)  # DM customers' names, before their inquiries start
    keys: list[CustomerIds] = []  # read on the first delivery that needs it, then kept

    def customers() -> CustomerIds:
        """The CareCustomer hash key; a ConfigurationError (a 503 saying why) when unusable."""
        if not keys:
            keys.append(customer_ids(settings.customer_keys))
        return keys[0]

    async def take_in(screened: Screened, platform: str) -> JSONResponse:
        """Each post ``screen`` let through signal-with-started (the ids were checked by the
        normalizers), each echo and customer's change signalled to its inquiry."""
        found = screened.found
        started: list[str] = []
        continued: list[str] = []  # DMs and X replies that join the customer's open inquiry
        recorded: list[str] = []  # the brand's own posts, recorded on their inquiries
        changed: list[dict[str, str]] = []  # customers' edits and unsent messages, applied
        rated: list[dict[str, str]] = []  # answers to Messenger's feedback template
        duplicates: list[dict[str, str]] = []  # redeliveries of posts an inquiry already has
        dropped: list[dict[str, str | None]] = []
        ignored = [item.as_json() for item in found.ignored]
        problems = [problem.as_json() for problem in found.problems]
        for problem in found.problems:  # field names and kinds only: never customer text
            log.warning(
                "%s delivery: event at %s (id %s) not read: %s",
                platform,
                problem.where,
                problem.id or "-",
                problem.message,
            )
        count_intake_problems(settings.telemetry, platform, len(problems))
        clamps = screened.clamps
        for clamp in clamps:
            log.info(
                "%s post %r: created_at %s is %s; using the time received, %s",
                platform,
                clamp.id,
                clamp.created_at.isoformat(),
                clamp.reason,
                clamp.received_at.isoformat(),
            )
        for inquiry, verdict in screened.dropped:
            turned_away = verdict.dropped
            assert turned_away is not None
            dropped.append(
                {"id": inquiry.id, "reason": turned_away.reason, "rule": turned_away.rule}
            )
        inquiries = list(screened.taken)
        echoes = list(screened.echoes)
        # DM customers' names, before their inquiries start; never fails (unknown stays unknown).
        named = await names.named([inquiry for inquiry, _ in inquiries])
        inquiries = [
            (inquiry, verdict) for inquiry, (_, verdict) in zip(named, inquiries, strict=True)
        ]
        try:
            if inquiries or echoes or screened.changes or found.feedback:
                client = await get_client()
            for inquiry, verdict in inquiries:
                result = await intake(
                    client,
                    settings.temporal.task_queue,
                    inquiry,
                    rules,
                    triaged=verdict,
                    in_reply_to=found.in_reply_to.get(inquiry.id),
                    customers=customers(),
                )
                if result.duplicate and result.workflow_id:
                    duplicates.append({"id": inquiry.id, "inquiry": result.workflow_id})
                elif result.continued and result.workflow_id:
                    continued.append(result.workflow_id)
                elif result.workflow_id:
                    started.append(result.workflow_id)
            for echo in echoes:  # after the inquiries: a delivery may hold a post and its answer
                # The brand answered on the platform itself: an agent message on the inquiry.
                reached = await record_brand_post(
                    client, echo, found.in_reply_to.get(echo.id), customers=customers()
                )
                if reached is None:
                    ignored.append(Ignored(echo.id, ECHO).as_json())
                else:
                    recorded.append(reached)
            for change in screened.changes:  # after the messages they may change
                reached = await record_change(client, change, customers=customers())
                if reached is None:
                    why = f"{change.kind}: no open inquiry on this conversation to change"
                    ignored.append(Ignored(change.id, why).as_json())
                else:
                    changed.append({"id": change.id, "kind": change.kind, "inquiry": reached})
            for feedback in found.feedback:  # Messenger's feedback template: a rating
                reached = await record_feedback(client, feedback, customers=customers())
                if reached is None:
                    why = "rating: no open inquiry on this conversation to rate"
                    ignored.append(Ignored(feedback.id, why).as_json())
                else:
                    rated.append({"id": feedback.id, "inquiry": reached})
        except (CareflowError, TemporalError) as error:
            message = str(error) or type(error).__name__
            log.warning("%s delivery not taken in: %s", platform, message)
            # What was started stays started: the platform's retry reaches the same workflows.
            return _error(503, message, started=started)
        log.info(
            "%s delivery: %d received, %d started, %d continued, %d duplicates, %d brand posts, "
            "%d changed, %d dropped, %d ignored, %d problems, %d times clamped",
            platform,
            found.received,
            len(started),
            len(continued),
            len(duplicates),
            len(recorded),
            len(changed),
            len(dropped),
            len(ignored),
            len(problems),
            len(clamps),
        )
        answer = {
            "received": found.received,
            "started": started,
            "continued": continued,
            "duplicates": duplicates,
            "brand_posts": recorded,
            "changed": changed,
            "rated": rated,
            "dropped": dropped,
        }
        clamped = [clamp.as_json() for clamp in clamps]
        return JSONResponse(
            {**answer, "ignored": ignored, "problems": problems, "clamped": clamped}
        )

    async def delivery(
        request: Request,
        secret: str | None,
        variable: str,
        what: str,
        header: str,
        signature: Callable[[str], Signature],
        platform: str,
    ) -> Response:
        """One door for every platform: secret configured, signature checked, payload
        screened (``screen``, as ``careflow intake explain`` does), then taken in."""
        if not secret:
            return _missing(variable, what)
        received_at = datetime.now(UTC)
        try:
            data = await _signed_payload(request, header, signature(secret))
            if isinstance(data, Response):
                return data
            screened = await screen(platform, data, settings.brand, rules, received_at)
        except PayloadError as error:
            return _refused(error)
        return await take_in(screened, platform)

    async def generic_webhook(request: Request) -> Response:
        """
        summary: A normalized inquiry from any source.
        description: >
          The body is one inquiry (schemas/inquiry.schema.json), signed with
          X-Careflow-Signature sha256=<hex HMAC-SHA256 of the raw body> (CAREFLOW_WEBHOOK_SECRET).
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Inquiry"}
        responses:
          200: {description: "Taken in", content: {application/json: {schema: {$ref: "#/components/schemas/IntakeAnswer"}}}}
          400: {description: "Not JSON"}
          401: {description: "Missing or forged signature"}
          422: {description: "Not a valid inquiry; problems lists each field"}
          503: {description: "CAREFLOW_WEBHOOK_SECRET not set, or Temporal unreachable"}
        """
        return await delivery(
            request,
            settings.webhooks.generic,
            "CAREFLOW_WEBHOOK_SECRET",
            "the generic webhook",
            GENERIC_SIGNATURE,
            hex_signature,
            "generic",
        )

    async def x_crc(request: Request) -> Response:
        """
        summary: X's challenge-response check (CRC), for Account Activity and X Activity API webhooks.
        parameters:
          - {name: crc_token, in: query, required: true, schema: {type: string}}
        responses:
          200: {description: "response_token sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}
          400: {description: "No crc_token"}
          503: {description: "CAREFLOW_X_CONSUMER_SECRET not set"}
        """
        secret = settings.webhooks.x_consumer_secret
        if not secret:
            return _missing("CAREFLOW_X_CONSUMER_SECRET", "the X webhook")
        token = request.query_params.get("crc_token")
        if not token:
            return _error(400, "the crc_token query parameter is missing")
        return JSONResponse({"response_token": base64_signature(secret)(token.encode())})

    async def x_webhook(request: Request) -> Response:
        """
        summary: X deliveries, Account Activity or X Activity API.
        description: >
          Account Activity - tweet_create_events (mentions, replies) become public inquiries,
          direct_message_events private ones. X Activity API ({"data": {"event_type", "payload"}})
          - post.mention.create, post.reply.create and post.quote.create become public
          inquiries, dm.received private ones; post.create and dm.sent (the account's own) are
          echoes; each event is taken, ignored with a reason or listed in problems (always a 200).
          The subscribed account's own posts are echoes, recorded on their inquiry. Signed with
          x-twitter-webhooks-signature sha256=<base64 HMAC-SHA256 of the raw body>
          (CAREFLOW_X_CONSUMER_SECRET), for both shapes.
        responses:
          200: {description: "Taken in", content: {application/json: {schema: {$ref: "#/components/schemas/IntakeAnswer"}}}}
          400: {description: "Not JSON, or neither an Account Activity nor an X Activity API payload"}
          401: {description: "Missing or forged signature"}
          422: {description: "Never for an event: an unreadable event is listed in problems in a 200, beside the events taken"}
          503: {description: "CAREFLOW_X_CONSUMER_SECRET not set, or Temporal unreachable"}
        """
        return await delivery(
            request,
            settings.webhooks.x_consumer_secret,
            "CAREFLOW_X_CONSUMER_SECRET",
            "the X webhook",
            X_SIGNATURE,
            base64_signature,
            "x",
        )

    async def meta_verify(request: Request) -> Response:
        """
        summary: Meta webhook subscription check.
        parameters:
          - {name: hub.mode, in: query, required: true, schema: {type: string, enum: [subscribe]}}
          - {name: hub.verify_token, in: query, required: true, schema: {type: string}}
          - {name: hub.challenge, in: query, required: true, schema: {type: string}}
        responses:
          200: {description: "The challenge, as plain text"}
          403: {description: "Wrong mode or verify token"}
          503: {description: "CAREFLOW_META_VERIFY_TOKEN not set"}
        """
        expected = settings.webhooks.meta_verify_token
        if not expected:
            return _missing("CAREFLOW_META_VERIFY_TOKEN", "the Meta webhook subscription check")
        query = request.query_params
        offered = query.get("hub.verify_token", "")
        matches = hmac.compare_digest(offered.encode(), expected.encode())
        if query.get("hub.mode") != "subscribe" or not matches:
            return _error(403, "hub.mode must be subscribe and hub.verify_token the verify token")
        return PlainTextResponse(query.get("hub.challenge", ""))

    async def meta_webhook(request: Request) -> Response:
        """
        summary: Meta (Facebook Page, Messenger, Instagram) deliveries.
        description: >
          object page - feed comments, visitor posts and Page mentions (public, channel facebook),
          messaging and standby (private, channel messenger); object instagram - comments and
          mentions (public), messaging (private). The Page's or account's own posts, message
          echoes and other apps' messages in standby are recorded on their inquiry. Each event
          is taken, ignored with a reason or listed in problems; one event careflow cannot read
          never refuses the others. Signed with X-Hub-Signature-256 sha256=<hex HMAC-SHA256 of
          the raw body> (CAREFLOW_META_APP_SECRET).
        responses:
          200: {description: "Taken in (problems lists the events that could not be read)", content: {application/json: {schema: {$ref: "#/components/schemas/IntakeAnswer"}}}}
          400: {description: "Not JSON, or an object other than page and instagram"}
          401: {description: "Missing or forged signature"}
          503: {description: "CAREFLOW_META_APP_SECRET not set, or Temporal unreachable"}
        """
        return await delivery(
            request,
            settings.webhooks.meta_app_secret,
            "CAREFLOW_META_APP_SECRET",
            "the Meta webhook",
            META_SIGNATURE,
            hex_signature,
            "meta",
        )

    return [
        Route("/webhooks/generic", generic_webhook, methods=["POST"]),
        Route("/webhooks/x", x_crc, methods=["GET"]),
        Route("/webhooks/x", x_webhook, methods=["POST"]),
        Route("/webhooks/meta", meta_verify, methods=["GET"]),
        Route("/webhooks/meta", meta_webhook, methods=["POST"]),
    ]


# ---------------------------------------------------------------------- careflow intake explain


def _author(author: Any) -> dict[str, Any]:
    if isinstance(author, dict):
        return {key: author.get(key) for key in ("id", "handle", "name")}
    return {"id": author.id, "handle": author.handle, "name": author.name}


def _post_event(kind: str, post: Inquiry) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": post.id,
        "channel": post.channel,
        "private": post.kind == "private",
        "conversation_id": post.conversation_id,
        "author": _author(post.author),
        "text": post.text,
        "attachments": [a.model_dump() for a in post.attachments],
    }


def explained_events(screened: Screened) -> list[dict[str, Any]]:
    """Each event of a screened delivery as ``careflow intake explain`` shows it: customers'
    posts (``inquiry``, with the ``received`` rules' decision), edits and unsent messages, the
    brand's echoes, then what is ignored and what could not be read."""
    events: list[dict[str, Any]] = []
    for post, verdict in [*screened.taken, *screened.dropped]:
        event = _post_event("inquiry", post)
        decision = verdict.decision
        event["dropped"] = verdict.dropped is not None
        event["drop_reason"] = verdict.dropped.reason if verdict.dropped is not None else None
        if decision is not None:
            event.update(
                category=decision.values.category,
                queue=decision.values.queue,
                priority=decision.values.priority,
            )
        events.append(event)
    for change in screened.changes:
        events.append(
            {
                "kind": change.kind,
                "id": change.id,
                "channel": change.channel,
                "private": change.private,
                "conversation_id": change.conversation_id,
                "author": _author(change.author),
                "text": change.text,
                "attachments": [],
            }
        )
    events += [
        {
            "kind": "rating",
            "id": feedback.id,
            "channel": feedback.channel,
            "private": True,
            "conversation_id": feedback.conversation_id,
            "author": _author(feedback.author),
            "text": answer_text(feedback.answer),
            "attachments": [],
            "score": feedback.answer.score,
        }
        for feedback in screened.found.feedback
    ]
    events += [_post_event("echo", post) for post in screened.echoes]
    events += [
        {"kind": "ignored", "id": item.id, "reason": item.reason} for item in screened.ignored
    ]
    events += [
        {"kind": "problem", "id": item.id, "where": item.where, "reason": item.message}
        for item in screened.problems
    ]
    return events


def explain_body(
    platform: str, raw: bytes, brand: BrandAccounts, rules: Ruleset, received_at: datetime
) -> tuple[list[dict[str, Any]], list[Clamped]]:
    """What the webhook door would make of ``raw``: the same parsing and ``screen`` as a
    delivery (no signature, no Temporal). Raises ``PayloadError`` where the door would refuse."""
    data = parse_json(raw)
    screened = asyncio.run(screen(platform, data, brand, rules, received_at))
    return explained_events(screened), screened.clamps
