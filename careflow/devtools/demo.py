"""The demo feed of ``careflow up --demo``: a few inquiries played out loud in under two minutes.

It submits example posts restamped to now, with the examples' own ids on a fresh
``$CAREFLOW_HOME`` (the ids the README shows) and ``-2``, ``-3``, … after them on later runs (the
first suffix no inquiry has taken), so a second demo starts fresh inquiries, plays customers and agents on cue, and prints
what each workflow does as it happens, read from the status query. It runs against
``rules/demo.yaml``, whose windows are seconds long, and needs nothing but a client: it does
exactly what the CLI and the future HTTP API do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from temporalio.client import Client

from careflow.engine.post import Inquiry
from careflow.engine.ruleset import Ruleset, load_ruleset
from careflow.errors import CareflowError
from careflow.settings import Settings
from careflow.temporal import inquiries, intake
from careflow.temporal.customers import CustomerIds, customer_ids
from careflow.temporal.inquiries import Action, act, list_open
from careflow.temporal.intake import IntakeResult, send_customer_message
from careflow.temporal.proactive import list_proactive
from careflow.temporal.trend_schedule import SCHEDULE_ID
from careflow.terminal import excerpt, queue_view
from workflows.inquiry import InquiryWorkflow
from workflows.messages import AcknowledgeRequest, ReplyRequest, ResolveRequest
from workflows.proactive_types import ProactiveStatus
from workflows.state import CustomerMessage, InquiryStatus, Message, TimelineEntry

ROOT = Path(__file__).resolve().parents[2]
DEMO_PACK = ROOT / "rules" / "demo.yaml"
EXAMPLES = ROOT / "examples" / "inquiries"
POLL = 0.5
PATIENCE = 90.0  # the longest any cue waits for a workflow to get somewhere
SHOWN_AS_MESSAGES = frozenset({"message.out", "customer.message"})
PLATFORM_KINDS = {
    "tweet": "posted on X",
    "dm": "X direct message",
    "comment": "Facebook comment",
    "private_reply": "Meta private reply",
    "message": "Messenger message",
    "webhook": "notification webhook",
    "chat_session": "live-chat session",
}
EVENT_STYLE = {
    "window.published": "bold red",
    "window.internal": "yellow",
    "window.warning": "yellow",
    "notified": "magenta",
    "escalated": "magenta",
    "closed": "bold green",
    "resolved": "green",
    "reopened": "bold yellow",
    "dropped": "red",
}


class DemoStuck(Exception):
    """A cue waited too long: the scene stops, the service keeps running."""


@dataclass
class Watched:
    """An inquiry the demo prints, and how much of it is printed already."""

    label: str
    workflow_id: str
    post: Inquiry
    timeline: int = 0
    messages: int = 0
    status: InquiryStatus | None = None
    done: bool = False


@dataclass
class Demo:
    """One run of the feed: its client, its printing, and the inquiries it watches."""

    client: Client
    settings: Settings
    console: Console
    pack: Path = DEMO_PACK
    platform: str | None = None  # the fake platform's URL: posts go through the intake
    shown_posts: int = 0
    tag: str = ""  # the suffix of this run's ids: "" on a fresh home, then "2", "3", …
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    watched: dict[str, Watched] = field(default_factory=dict)
    ruleset: Ruleset = field(init=False)
    customers: CustomerIds = field(init=False)

    def __post_init__(self) -> None:
        self.ruleset = load_ruleset(self.pack)  # the intake filter, as `careflow submit` uses it
        self.customers = customer_ids(self.settings.customer_keys)  # `careflow up` made it

    # ------------------------------------------------------------------ printing

    def line(self, label: str, text: str, at: datetime | None = None, style: str = "") -> None:
        seconds = ((at or datetime.now(UTC)) - self.started).total_seconds()
        body = f"[{style}]{text}[/]" if style else text
        self.console.print(f"[dim]{seconds:+6.1f}s[/] {label:<13} {body}", soft_wrap=True)

    def _timeline_line(self, label: str, entry: TimelineEntry) -> None:
        style = EVENT_STYLE.get(entry.event, "dim" if entry.event == "rules" else "")
        if entry.event == "rules":
            text = f"rules fired on {escape(entry.detail)}"
        else:
            text = f"{entry.event}: {escape(entry.detail)}"
        self.line(label, text, entry.at, style)

    def _message_line(self, label: str, message: Message) -> None:
        where = " (private)" if message.private else ""
        if message.direction == "in":
            text = f"← @{escape(message.by)}{where}: “{escape(excerpt(message.text, 110))}”"
            self.line(label, text, message.at, "yellow")
        else:
            text = f"→ {message.kind} by {escape(message.by)}{where}: “{escape(excerpt(message.text, 110))}”"
            self.line(label, text, message.at, "cyan")

    # ------------------------------------------------------------------ watching

    async def watch(self) -> None:
        """Print what every watched inquiry does, as it happens, until cancelled."""
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                for item in list(self.watched.values()):
                    if not item.done:
                        await self._show_news(item)
                if self.platform is not None:
                    await self._show_platform_posts(http)
                await asyncio.sleep(POLL)

    async def _show_platform_posts(self, http: httpx.AsyncClient) -> None:
        """What careflow posted on the fake platform (GET /_fake/posts), as it lands."""
        try:
            posts = (await http.get(f"{self.platform}/_fake/posts")).json()
        except (httpx.HTTPError, ValueError):
            return
        for post in posts[self.shown_posts :]:
            where = PLATFORM_KINDS.get(post.get("kind"), post.get("kind"))
            text = excerpt(str(post.get("text") or ""), 100)
            self.line("platform", f"⇢ {where} #{post.get('id')}: “{escape(text)}”", style="green")
        self.shown_posts = max(self.shown_posts, len(posts))

    async def _show_news(self, item: Watched) -> None:
        try:
            status = await inquiries.status(self.client, item.workflow_id)
        except CareflowError:
            return  # still starting: its rules are loading
        news: list[tuple[datetime, int, Any]] = []
        news += [(e.at, 0, e) for e in status.timeline[item.timeline :]]
        news += [(m.at, 1, m) for m in status.messages[item.messages :]]
        for _, _, entry in sorted(news, key=lambda n: (n[0], n[1])):
            if isinstance(entry, Message):
                self._message_line(item.label, entry)
            elif entry.event not in SHOWN_AS_MESSAGES:
                self._timeline_line(item.label, entry)
        item.timeline, item.messages = len(status.timeline), len(status.messages)
        item.status = status
        item.done = status.step == "closed"

    async def until(
        self, workflow_id: str, ready: Callable[[InquiryStatus], bool], what: str
    ) -> InquiryStatus:
        """Wait until the inquiry's status satisfies ``ready``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while loop.time() < deadline:
            try:
                status = await inquiries.status(self.client, workflow_id)
            except CareflowError:
                status = None
            if status is not None and ready(status):
                return status
            await asyncio.sleep(POLL)
        raise DemoStuck(f"waited {PATIENCE:.0f}s for {what}")

    # ------------------------------------------------------------------ acting

    def example(self, name: str) -> Inquiry:
        """An example post, restamped to now, with ids of this demo run."""
        inquiry = Inquiry.model_validate_json((EXAMPLES / f"{name}.json").read_text())
        moved = inquiries.with_suffix(inquiry, self.tag)
        return moved.model_copy(update={"created_at": datetime.now(UTC)})

    async def free_tag(self) -> str:
        """The first suffix under which none of the feed's inquiries exists yet: the README's
        ids on a fresh home, ``-2``, ``-3``, … after."""
        self.tag = ""
        posts = [self.example(name) for name in FEED if name != "spam-giveaway"]
        self.tag = await inquiries.fresh(self.client, posts)
        return self.tag

    async def post(self, body: dict[str, Any]) -> IntakeResult:
        """A customer posts on the fake platform, which sends careflow's intake the signed
        webhook; the intake's answer says what became of it."""
        async with httpx.AsyncClient(timeout=30) as http:
            answer = (await http.post(f"{self.platform}/_fake/webhooks", json=body)).json()
        said = answer.get("intake") or {}
        if answer.get("intake_status") != 200:
            raise CareflowError(f"the intake refused the post: {said or answer}")
        for dropped in said.get("dropped", []):
            return IntakeResult(
                workflow_id=None, dropped=True, reason=dropped["reason"], rule=dropped["rule"]
            )
        reached = [*said.get("started", []), *said.get("continued", [])]
        if reached:
            return IntakeResult(workflow_id=reached[0], continued=bool(said.get("continued")))
        for again in said.get("duplicates", []):  # a redelivery: the inquiry has the post
            return IntakeResult(workflow_id=again["inquiry"], duplicate=True)
        return IntakeResult(workflow_id=None, duplicate=bool(said.get("ignored")))

    async def submit(self, label: str, inquiry: Inquiry) -> str | None:
        if self.platform is not None:
            result = await self.post(inquiry.model_dump(mode="json", exclude_none=True))
        else:
            result = await intake.intake(
                self.client,
                self.settings.temporal.task_queue,
                inquiry,
                self.ruleset,
                str(self.pack),
                customers=self.customers,
            )
        if result.dropped or result.workflow_id is None:
            self.line(
                label,
                f"✗ @{escape(inquiry.author.handle)}: “{escape(excerpt(inquiry.text, 70))}” "
                f"dropped at intake: {result.reason} (rule {result.rule}); no workflow started",
                style="red",
            )
            return None
        if result.workflow_id not in self.watched:
            self.line(
                label,
                f"● new post by @{escape(inquiry.author.handle)} "
                f"({inquiry.author.followers or 0} followers): “{escape(excerpt(inquiry.text, 90))}” "
                f"→ workflow {result.workflow_id}",
                style="bold",
            )
            self.watched[result.workflow_id] = Watched(label, result.workflow_id, inquiry)
        return result.workflow_id

    async def agent(
        self, label: str, workflow_id: str, what: str, action: Action, request: BaseModel
    ) -> None:
        self.line(label, f"▶ {what}", style="bold")
        try:
            result = await act(self.client, workflow_id, action, request)
        except CareflowError as error:
            self.line(label, f"✗ rejected: {escape(str(error))}", style="red")
            return
        self.line(label, f"  {escape(result.detail)}", style="dim")

    async def customer(self, label: str, workflow_id: str, text: str, private: bool) -> None:
        where = "sends a DM" if private else "writes again, publicly"
        self.line(label, f"▶ the customer {where}", style="bold")
        if self.platform is not None:
            post = self.watched[workflow_id].post
            body: dict[str, Any] = {
                "channel": post.channel,
                "kind": "private" if private else "public",
                "author": post.author.model_dump(mode="json", exclude_none=True),
                "text": text,
            }
            if not private:
                body["conversation_id"] = post.conversation_id
            result = await self.post(body)
            if private and result.workflow_id == workflow_id:
                self.line(
                    label, "  the DM joined the public inquiry that asked for it", style="dim"
                )
            return
        message = CustomerMessage(
            id=f"demo-{uuid.uuid4().hex[:10]}", text=text, private=private, at=datetime.now(UTC)
        )
        await send_customer_message(self.client, workflow_id, message)


# ---------------------------------------------------------------------- the scenes


def _outbound(status: InquiryStatus, kind: str) -> int:
    return sum(1 for m in status.messages if m.direction == "out" and m.kind == kind)


async def spam(demo: Demo) -> None:
    """The firehose filter: giveaway spam starts no workflow."""
    await demo.submit("spam", demo.example("spam-giveaway"))


async def late_delivery(demo: Demo) -> None:
    """The whole loop: safety net, DM, reply, resolve, reopen, resolve, a rating, close."""
    label, post = "late-delivery", demo.example("late-delivery")
    wid = await demo.submit(label, post)
    if wid is None:
        return
    await asyncio.sleep(3)
    before = await demo.until(wid, lambda s: True, "the inquiry to start")
    demo.line(label, "▶ the platform delivers the same post again (a webhook retry)", style="bold")
    await demo.submit(label, post)
    await asyncio.sleep(1.5)
    after = await demo.until(wid, lambda s: True, "the duplicate")
    if len(after.messages) == len(before.messages):
        demo.line(label, "  it reached the same workflow, which changed nothing", style="dim")
    await demo.until(wid, lambda s: s.step == "privatize", "the invitation to DM")
    await asyncio.sleep(3)
    dm = "Order 40012345, email sam.k@example.com. It was due last Tuesday."
    await demo.customer(label, wid, dm, private=True)
    await demo.until(wid, lambda s: s.step == "resolve", "the DM")
    await asyncio.sleep(2)
    text = "Thanks Sam, found it: your parcel was held at our depot. It leaves today by express."
    await demo.agent(
        label,
        wid,
        "agent Ana replies privately",
        InquiryWorkflow.reply,
        ReplyRequest(agent="Ana", text=text, private=True),
    )
    await asyncio.sleep(2)
    await demo.agent(
        label,
        wid,
        "agent Ana resolves (code reshipped)",
        InquiryWorkflow.resolve,
        ResolveRequest(agent="Ana", code="reshipped"),
    )
    await demo.until(wid, lambda s: _outbound(s, "follow_up") >= 1, "the follow-up")
    await asyncio.sleep(2)
    await demo.customer(label, wid, "Still not fixed, nothing arrived today.", private=True)
    await demo.until(wid, lambda s: s.step == "resolve" and s.reopens == 1, "the reopen")
    await asyncio.sleep(2)
    text = "So sorry Sam. We've refunded the order in full; keep the parcel if it turns up."
    await demo.agent(
        label,
        wid,
        "agent Ana replies privately",
        InquiryWorkflow.reply,
        ReplyRequest(agent="Ana", text=text, private=True),
    )
    await asyncio.sleep(1)
    await demo.agent(
        label,
        wid,
        "agent Ana resolves (code refunded)",
        InquiryWorkflow.resolve,
        ResolveRequest(agent="Ana", code="refunded"),
    )
    await demo.until(wid, lambda s: _outbound(s, "follow_up") >= 2, "the second follow-up")
    await asyncio.sleep(2)
    await demo.customer(label, wid, "5/5 thanks, all sorted now!", private=True)
    closed = await demo.until(wid, lambda s: s.step == "closed", "the close")
    if closed.rating is not None:  # the rules asked for a rating with the second follow-up
        rating = closed.rating
        demo.line(label, f"  CSAT {rating.score}/{rating.scale} recorded", style="dim")


async def high_reach(demo: Demo) -> None:
    """A PR risk: urgent windows, supervisors told, an agent at once; the DM never comes."""
    label = "high-reach"
    wid = await demo.submit(label, demo.example("high-reach"))
    if wid is None:
        return
    await asyncio.sleep(3)
    await demo.agent(
        label,
        wid,
        "agent Ben acknowledges at once",
        InquiryWorkflow.acknowledge,
        AcknowledgeRequest(
            agent="Ben", text="Dan, that's not OK and we're sorry. On it right now."
        ),
    )
    await demo.until(wid, lambda s: s.step == "resolve", "the invitation to give up")
    await asyncio.sleep(2)
    text = "Dan, we found your order: it's out for delivery today, with a $20 credit for the wait."
    await demo.agent(
        label,
        wid,
        "agent Ben replies publicly (and leaves the inquiry open for you)",
        InquiryWorkflow.reply,
        ReplyRequest(agent="Ben", text=text),
    )


async def silent_question(demo: Demo) -> None:
    """Nobody answers a second message in time: the window is breached; the follow-up goes
    unanswered and the inquiry closes on its own."""
    label = "question"
    wid = await demo.submit(label, demo.example("question"))
    if wid is None:
        return
    await demo.until(wid, lambda s: s.step == "resolve", "the safety-net acknowledgement")
    await asyncio.sleep(3)
    await demo.customer(label, wid, "Hello?? Anyone there? I need them by Friday.", private=False)
    await demo.until(wid, lambda s: "next_reply" in s.breached, "the breach")
    await asyncio.sleep(2)
    text = "Sorry for the wait, Jules! Size 44 is in stock online and at our Main St store."
    await demo.agent(
        label,
        wid,
        "agent Cleo replies, late",
        InquiryWorkflow.reply,
        ReplyRequest(agent="Cleo", text=text),
    )
    await asyncio.sleep(2)
    await demo.agent(
        label,
        wid,
        "agent Cleo resolves (code answered)",
        InquiryWorkflow.resolve,
        ResolveRequest(agent="Cleo", code="answered"),
    )
    await demo.until(wid, lambda s: s.step == "closed", "the silent follow-up to close it")


OUTAGE_BURST = (
    ("dana_co", "@acme your app is down again?? Denver here"),
    ("mtnbiker", "@acme site down in Denver, can't check out"),
    ("lee.h", "@acme is the app down? nothing loads in Boulder"),
    ("sam_r", "@acme app down for anyone else in Denver?"),
    ("priya.k", "@acme outage in Colorado? the app won't load"),
    ("tomw", "@acme the site is down, Denver, since 10 min"),
)
TREND_PATIENCE = 60.0


async def outage_burst(demo: Demo) -> None:
    """Six customers in Colorado say the app is down within seconds: the trend watch (its
    schedule, triggered now rather than at its next tick) drafts one public post and tells the
    supervisors; nothing is posted until someone approves it."""
    label = "trend"
    demo.line(label, "▶ a burst: six Colorado customers say the app is down", style="bold")
    base = Inquiry.model_validate_json((EXAMPLES / "question.json").read_text())
    for n, (handle, text) in enumerate(OUTAGE_BURST, 1):
        number = f"18690000000000000{n:02d}"
        post = base.model_copy(
            update={
                "id": number,
                "conversation_id": number,
                "text": text,
                "created_at": datetime.now(UTC),
                "url": f"https://x.com/{handle}/status/{number}",
                "author": base.author.model_copy(
                    update={"id": f"5{n:04d}", "handle": handle, "name": handle}
                ),
            }
        )
        post = inquiries.with_suffix(post, demo.tag)
        if demo.platform is not None:
            await demo.post(post.model_dump(mode="json", exclude_none=True))
        else:
            await intake.intake(
                demo.client,
                demo.settings.temporal.task_queue,
                post,
                demo.ruleset,
                str(demo.pack),
                customers=demo.customers,
            )
        demo.line(label, f"← @{handle}: “{escape(text)}”", style="yellow")
    draft = await _draft(demo)
    if draft is None:
        demo.line(label, "✗ no draft yet: see `careflow proactive list` later", style="red")
        return
    demo.line(
        label,
        f"✎ draft {draft.id} awaits a supervisor ({draft.count} inquiries about {draft.topic} "
        f"in {draft.segment}): “{escape(draft.draft)}”",
        style="magenta",
    )
    demo.line(
        label,
        f"  approve it: careflow proactive approve {draft.id} --agent you",
        style="magenta",
    )


async def _draft(demo: Demo) -> ProactiveStatus | None:
    """The draft of this burst, once a tick of the trend watch made it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TREND_PATIENCE
    schedule = demo.client.get_schedule_handle(SCHEDULE_ID)
    while loop.time() < deadline:
        await asyncio.sleep(2)  # visibility counts what it indexed: a moment after the posts
        await schedule.trigger()
        for _ in range(10):
            await asyncio.sleep(POLL)
            found = [
                p
                for p in await list_proactive(demo.client)
                if p.created_at >= demo.started and p.trend == "outage-spike"
            ]
            if found:
                return found[0]
    return None


FEED = ("spam-giveaway", "late-delivery", "high-reach", "question")  # the examples the scenes post
SCENES: tuple[tuple[float, Callable[[Demo], Awaitable[None]]], ...] = (
    (0.0, spam),
    (0.5, late_delivery),
    (1.5, high_reach),
    (2.5, silent_question),
    (4.0, outage_burst),
)


async def _scene(demo: Demo, delay: float, scene: Callable[[Demo], Awaitable[None]]) -> None:
    await asyncio.sleep(delay)
    try:
        await scene(demo)
    except (DemoStuck, CareflowError) as error:
        demo.line(scene.__name__, f"✗ demo scene stopped: {escape(str(error))}", style="red")


def _summary(demo: Demo) -> None:
    demo.console.print()
    demo.console.rule("[bold]demo finished[/]")
    for item in demo.watched.values():
        status = item.status
        if status is None:
            continue
        verdicts = ", ".join(
            f"{name} {clock.internal}/{clock.published}" for name, clock in status.clocks.items()
        )
        state = f"closed ({status.close_reason})" if status.step == "closed" else status.step
        demo.console.print(f"  {item.label:<13} {status.id}  {escape(state)}")
        demo.console.print(f"  {'':<13} clocks (internal/published): {verdicts}", style="dim")


async def run_demo(
    client: Client, settings: Settings, console: Console, platform: str | None = None
) -> None:
    """Play every scene, print the story, then a summary and the open queue; keep watching.
    With ``platform`` (the fake platform's URL) customers post there and careflow's replies
    show up there."""
    demo = Demo(client, settings, console, platform=platform)
    await demo.free_tag()
    console.rule("[bold]demo: four posts arrive[/] (rules/demo.yaml: windows in seconds)")
    watcher = asyncio.create_task(demo.watch())
    try:
        await _play(demo, watcher)
    except Exception as error:  # the demo is a guest: whatever breaks it, the service stays up
        console.print(f"[red]the demo stopped: {escape(repr(error))}[/]")
    finally:
        watcher.cancel()


async def _play(demo: Demo, watcher: asyncio.Task[None]) -> None:
    console, settings = demo.console, demo.settings
    await asyncio.gather(*(_scene(demo, delay, scene) for delay, scene in SCENES))
    await asyncio.sleep(POLL * 3)  # let the watcher print the last events
    _summary(demo)
    rows = (await list_open(demo.client)).rows
    if rows:
        console.print("\n[bold]open inquiries[/] (careflow queue):")
        console.print(queue_view(rows))
        first = rows[0].id
        console.print(
            f"\nTry: export TEMPORAL_ADDRESS={settings.temporal.address}\n"
            f"     careflow status {first}\n"
            f'     careflow reply {first} --agent you --text "Anything else we can do?"\n'
            + (
                f"     curl {demo.platform}/_fake/posts"
                if demo.platform
                else "     careflow outbox"
            )
        )
    console.print("\nThe service keeps running (Ctrl-C stops it).")
    await watcher
