"""How inquiries, the queue and the outbox read in a terminal (rich), for agents and newcomers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from careflow.temporal.inquiries import OpenInquiry
from workflows import engine_version
from workflows.state import ClockView, InquiryStatus

VERDICT_STYLE = {"met": "green", "missed": "bold red", "pending": "yellow"}
PIPE_WIDTH = 200  # rich assumes 80 columns when output is not a terminal; logs read better wider


def console() -> Console:
    """A console for careflow's output: no syntax guessing, wide enough when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)


def table(*columns: str) -> Table:
    """A borderless table with bold headings: how careflow's commands print rows."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def when(at: datetime | None, now: datetime | None = None) -> str:
    """A time in local time: the clock time alone when it is today."""
    if at is None:
        return "-"
    now = now or datetime.now(UTC)
    local, today = at.astimezone(), now.astimezone()
    return local.strftime("%H:%M:%S" if local.date() == today.date() else "%Y-%m-%d %H:%M")


def relative(at: datetime, now: datetime | None = None) -> str:
    """``in 4m 10s`` or ``12s ago``."""
    seconds = int((at - (now or datetime.now(UTC))).total_seconds())
    span = abs(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, span = divmod(span, size)
        if count and len(parts) < 2:
            parts.append(f"{count}{unit}")
    text = " ".join(parts) or "0s"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def excerpt(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _due(at: datetime, now: datetime) -> str:
    return f"{when(at, now)} ({relative(at, now)})"


def _verdict(verdict: str) -> Text:
    return Text(verdict, style=VERDICT_STYLE.get(verdict, ""))


def _clock_note(clock: ClockView, now: datetime) -> str:
    if clock.met_at is not None:
        return f"met at {when(clock.met_at, now)}"
    if clock.stopped_at is not None:
        return f"stopped at {when(clock.stopped_at, now)}"
    return "paused (waiting on the customer)" if clock.paused else ""


def _clocks(status: InquiryStatus, now: datetime) -> Table:
    """Each clock's due times; a countdown only while the clock still runs (a met or stopped
    clock, or any clock of a closed inquiry, is history: a countdown there misleads)."""
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("clock", "internal due", "published due", "internal", "published", ""):
        table.add_column(column)
    for name, clock in status.clocks.items():
        running = status.step != "closed" and clock.met_at is None and clock.stopped_at is None
        due = _due if running else when
        table.add_row(
            name,
            due(clock.internal_due, now),
            due(clock.published_due, now),
            _verdict(clock.internal),
            _verdict(clock.published),
            _clock_note(clock, now),
        )
    return table


def _messages(status: InquiryStatus, now: datetime) -> Table:
    table = Table(box=None, pad_edge=False, show_header=False)
    for _ in range(4):
        table.add_column()
    left_out = status.earlier.note(status.earlier.messages, "messages")
    if left_out:
        table.add_row("", "", "", f"[italic]({escape(left_out)})[/]")
    for message in status.messages:
        arrow = "← @" if message.direction == "in" else "→ "
        where = "private" if message.private else "public"
        text = escape(message.text)
        if message.withdrawn_at is not None:
            text = f"[italic](unsent by the customer {when(message.withdrawn_at, now)})[/]"
        elif message.edited_from:
            text += f" [italic](edited {when(message.edited_at, now)})[/]"
        for attachment in message.attachments:  # platform links expire: open them soon
            text += f"\n{escape(attachment.type)}: {escape(attachment.url or '(no link)')}"
        table.add_row(
            when(message.at, now), f"{arrow}{escape(message.by)}", f"{message.kind}, {where}", text
        )
    return table


def _timeline(status: InquiryStatus, now: datetime) -> Table:
    table = Table(box=None, pad_edge=False, show_header=False)
    for _ in range(3):
        table.add_column()
    left_out = status.earlier.note(status.earlier.timeline, "timeline entries")
    if left_out:
        table.add_row("", "", f"[italic]({escape(left_out)})[/]")
    for entry in status.timeline:
        who = f" [dim]({escape(entry.actor.describe())})[/dim]" if entry.actor else ""
        table.add_row(when(entry.at, now), entry.event, escape(entry.detail) + who)
    return table


def status_view(status: InquiryStatus, now: datetime | None = None) -> RenderableType:
    """The whole inquiry: where it stands, its clocks, its conversation and its timeline."""
    now = now or datetime.now(UTC)
    inquiry = status.inquiry
    head = f"[bold]{status.id}[/]  ·  step [bold]{status.step}[/]"
    head += f"  ·  agent {escape(status.agent)}" if status.agent else "  ·  unassigned"
    if status.close_reason:
        head += f"  ·  closed: {escape(status.close_reason)}"
    lines: list[RenderableType] = [
        head,
        f"@{escape(inquiry.author.handle)} on {inquiry.channel} ({inquiry.kind}), "
        f"{when(inquiry.created_at, now)}: {escape(excerpt(inquiry.text, 200))}",
    ]
    if inquiry.url:
        lines.append(escape(inquiry.url))
    for attachment in inquiry.attachments:  # platform links expire: open them soon
        lines.append(
            f"attachment {escape(attachment.type)}: {escape(attachment.url or '(no link)')}"
        )
    lines.append(
        f"category {status.category}  ·  priority {status.priority}  ·  queue {status.queue}  ·  "
        f"windows {status.windows}  ·  privatize {status.privatize}"
    )
    extras = []
    if status.tags:
        extras.append("tags: " + ", ".join(status.tags))
    if status.breached:
        extras.append("[bold red]breached: " + ", ".join(status.breached) + "[/]")
    if status.reopens:
        extras.append(f"reopened {status.reopens}×")
    if status.waiting_on_customer:
        extras.append("waiting on the customer")
    if extras:
        lines.append("  ·  ".join(extras))
    ruleset = status.ruleset
    lines.append(
        f"ruleset {ruleset.get('name')} (sha256 {ruleset.get('digest', '')[:12]}…) from "
        f"{escape(ruleset.get('file', '?'))}, run by {engine_version.describe(ruleset)}"
    )
    lines.append("rules fired: " + (", ".join(status.fired) or "none"))
    if status.next_due is not None and status.step != "closed":
        lines.append(f"next due: {_due(status.next_due, now)}")
    if status.resolution_code:
        note = f": {escape(status.resolution_note)}" if status.resolution_note else ""
        lines.append(f"resolution: {escape(status.resolution_code)}{note}")
    if status.rating is not None:
        comment = f": {escape(status.rating.comment)}" if status.rating.comment else ""
        lines.append(f"CSAT: {status.rating.score}/{status.rating.scale}{comment}")
    elif status.rating_asked_at is not None:
        lines.append(f"CSAT: asked {when(status.rating_asked_at, now)}, no rating yet")
    for escalation in status.escalations:
        lines.append(
            f"escalated to {escalation.to} by {escape(escalation.by)} at "
            f"{when(escalation.at, now)}: {escape(escalation.reason)}"
        )
    lines += ["", "[bold]Clocks[/]", _clocks(status, now)]
    lines += ["", "[bold]Messages[/]", _messages(status, now) if status.messages else "  none"]
    lines += ["", "[bold]Timeline[/]", _timeline(status, now)]
    return Group(*lines)


def queue_view(rows: list[OpenInquiry], now: datetime | None = None) -> Table:
    """The agents' queue: one line per open inquiry, most urgent first (ids never cut)."""
    now = now or datetime.now(UTC)
    table = Table(box=None, pad_edge=False, header_style="bold")
    id_width = max((len(row.id) for row in rows), default=2)
    for column in ("next due", "id", "author", "text", "category", "priority", "step", "agent"):
        table.add_column(column, no_wrap=True, min_width=id_width if column == "id" else None)
    for row in rows:
        due = Text("-")
        if row.next_due is not None:
            due = Text(_due(row.next_due, now), style="bold red" if row.next_due < now else "")
        elif row.breached:
            due = Text("breached: " + ", ".join(row.breached), style="bold red")
        table.add_row(
            due,
            row.id,
            f"@{escape(row.author or '?')} ({row.channel or '?'})",
            escape(excerpt(row.text, 40)),
            row.category or "-",
            row.priority or "-",
            row.step or "-",
            escape(row.agent or "-"),
        )
    return table


def outbox_line(entry: dict[str, Any]) -> str:
    """One delivery as a line: time, kind, where it went, the text."""
    at = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
    kind = entry.get("kind", "?")
    to = entry.get("to") or "?"
    if kind in ("reply", "invitation", "reminder", "follow_up"):
        where = f"{entry.get('channel')} → @{to}" + (" (private)" if entry.get("private") else "")
    else:
        where = f"→ {to}"
    text = " ".join(str(entry.get("text", "")).split())
    line = f"{when(at)}  {kind:<12} {where}: {text}"
    if entry.get("transcript"):
        line += f"  [+ transcript of {len(entry['transcript'])} messages]"
    return line


def delivery_view(events: list[dict[str, Any]]) -> RenderableType:
    """``careflow intake explain``: one block per event of a webhook body, what careflow makes
    of it (customer text escaped: it is data, not markup)."""
    if not events:
        return Text("no events in this body")
    lines: list[RenderableType] = []
    for number, event in enumerate(events, 1):
        kind = event["kind"]
        head = f"[bold]{number}. {kind}[/]"
        if event.get("id"):
            head += f"  {escape(str(event['id']))}"
        if "channel" in event:
            where = "private" if event.get("private") else "public"
            author = event.get("author") or {}
            who = author.get("handle") or author.get("id") or "?"
            name = f" ({escape(author['name'])})" if author.get("name") else ""
            head += (
                f"  ·  {event['channel']} ({where})  ·  conversation "
                f"{escape(str(event['conversation_id']))}  ·  @{escape(str(who))}{name}"
            )
        lines.append(head)
        if event.get("text") is not None:
            lines.append(f"   text: {escape(excerpt(event['text'], 200))}")
        for attachment in event.get("attachments") or []:
            link = attachment.get("url") or "(no link)"
            lines.append(f"   attachment {escape(str(attachment['type']))}: {escape(link)}")
        if kind == "inquiry":
            if event.get("dropped"):
                lines.append(
                    f"   [bold red]dropped[/] at the door: {escape(str(event.get('drop_reason')))}"
                )
            else:
                lines.append(
                    f"   category {event.get('category')}  ·  queue {event.get('queue')}  ·  "
                    f"priority {event.get('priority')}"
                )
        if event.get("reason"):
            where = f" at {event['where']}" if event.get("where") else ""
            lines.append(f"   reason{where}: {escape(str(event['reason']))}")
    return Group(*lines)
