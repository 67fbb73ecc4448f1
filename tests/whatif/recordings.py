"""Four inquiries recorded on the time-skipping server with OLD rules, exported as files, and
NEW rules with three known differences: a new drop rule (``coupon``), a tighter acknowledge
window (30m/1h → 10m/20m) and a new safety-net reply for returns.

| label  | text                       | what the agent did          |
| ------ | -------------------------- | --------------------------- |
| coupon | free coupon codes here     | resolve at +5m (no reply)   |
| return | I want to return my jacket | reply +15m, resolve +20m    |
| late   | my parcel is late          | reply +45m, resolve +50m    |
| ship   | do you ship to Canada?     | reply +2m, resolve +3m      |
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from careflow.audit.files import write_history
from tests.conftest import dedent
from tests.harness import careflow, example
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest

OLD = dedent(
    """
    version: 1
    name: shop
    windows:
      standard: {acknowledge: {internal: 30m, published: 1h}, resolve: {internal: 4h, published: 24h}}
    defaults: {windows: standard, privatize: never}
    targets:
      supervisors: {webhook: "https://supervisors.example/hook"}
    templates:
      ack: "Hi, we're on it."
      follow_up: "Is everything sorted?"
    rules:
      - name: returns
        on: received
        when: {text: {contains_any: [return]}}
        do: [{set: {category: returns, queue: returns}}]
      - name: breach-alert
        on: window.published
        do: [{notify: supervisors}]
    """
)
NEW = (
    OLD.replace("name: shop", "name: shop-edited")
    .replace("{internal: 30m, published: 1h}", "{internal: 10m, published: 20m}")
    .replace(
        "rules:\n",
        "rules:\n"
        "  - name: drop-coupon-spam\n"
        "    on: received\n"
        "    when: {text: {contains_any: [coupon]}}\n"
        "    do: [{drop: spam}]\n",
    )
    + "  - name: safety-net\n"
    "    on: window.internal\n"
    "    when: {clock: acknowledge, category: returns}\n"
    "    do: [{reply: {template: ack}}]\n"
)
MINUTE = timedelta(minutes=1)
# label: (text, [(minutes after the post, action)])
SCRIPT: dict[str, tuple[str, list[tuple[int, str]]]] = {
    "coupon": ("@shop free coupon codes here", [(5, "resolve")]),
    "return": ("@shop I want to return my jacket", [(15, "reply"), (20, "resolve")]),
    "late": ("@shop my parcel is late", [(45, "reply"), (50, "resolve")]),
    "ship": ("@shop do you ship to Canada?", [(2, "reply"), (3, "resolve")]),
}


def rule_files(folder: Path) -> tuple[Path, Path]:
    old, new = folder / "old.yaml", folder / "new.yaml"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    return old, new


async def record(folder: Path, rules: Path, home: Path) -> dict[str, str]:
    """Run the script with ``rules`` and export each history to ``folder``: label → workflow id."""
    ids: dict[str, str] = {}
    async with careflow(home, rules) as h:
        for number, (label, (text, acts)) in enumerate(SCRIPT.items()):
            post = example("question", await h.now())
            post = post.model_copy(
                update={"text": text, "id": f"90{number}", "conversation_id": f"90{number}"}
            )
            handle = await h.start(post)
            await h.until(handle, lambda s: any(t.event == "triaged" for t in s.timeline))
            elapsed = 0
            for minutes, action in acts:
                await h.skip((minutes - elapsed) * MINUTE)
                elapsed = minutes
                if action == "reply":
                    request = ReplyRequest(agent="ana", text="Sure, let me check.")
                    await handle.execute_update(InquiryWorkflow.reply, request)
                else:
                    done = ResolveRequest(agent="ana", code="answered")
                    await handle.execute_update(InquiryWorkflow.resolve, done)
            history = await handle.fetch_history()
            run_id = history.events[0].workflow_execution_started_event_attributes
            write_history(folder, history, run_id.original_execution_run_id)
            ids[label] = handle.id
    return ids
