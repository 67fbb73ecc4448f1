"""Deciding in the console what only the CLI and the API decided before: a supervisor approves
or rejects the trend watch's proactive posts, and a reviewer, the reviewed agent and a
supervisor score, dispute and settle a quality review, each in a real browser against the whole
stack (see ``test_console_browser``; skipped the same way without chromium)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from careflow.temporal import proactive
from tests.console.browser import playwright_or_skip, signed_in
from tests.console.stack import ConsoleStack
from workflows.proactive import ProactivePostWorkflow
from workflows.proactive_types import ProactiveInput

expect = playwright_or_skip().expect


def draft(stack: ConsoleStack, segment: str, text: str) -> str:
    """A draft as the trend watch starts one, waiting an hour for a supervisor; its id."""
    wid = f"proactive-outage-spike-{segment}-1"

    async def start() -> None:
        assert stack.client is not None
        await stack.client.start_workflow(
            ProactivePostWorkflow.run,
            ProactiveInput(
                trend="outage-spike",
                topic="outage",
                segment=segment,
                period_start=datetime.now(UTC),
                count=7,
                baseline=1.0,
                channel="x",
                draft=text,
                approvers="supervisors",
                wait_seconds=3600,
            ),
            id=wid,
            task_queue="console",
        )

    stack.run(start())
    return wid


def reload_until(page: Any, locator: Any, seconds: float = 30) -> None:
    """Reload until ``locator`` is there: visibility trails a workflow's start and changes."""
    deadline = time.monotonic() + seconds
    while locator.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    expect(locator.first).to_be_visible()


def score_of(page: Any, criterion: str) -> Any:
    """The score cell of ``criterion``'s row in the review's rubric."""
    return page.locator("table.rubric tr", has_text=criterion).locator("td").last


def tweets(stack: ConsoleStack) -> list[str]:
    posts = httpx.get(f"{stack.fake_url}/_fake/posts", timeout=10).json()
    return [p["text"] for p in posts if p["kind"] == "tweet"]


def test_a_supervisor_approves_a_draft_with_edited_text_and_it_is_posted_once(browser, stack):
    wid = draft(stack, "denver", "The site is down in Denver: we're on it.")
    page = signed_in(browser, stack, "tok-sam")
    page.goto("/supervisor")
    page.get_by_role("navigation").get_by_role("link", name="Proactive posts").click()
    expect(page.get_by_role("heading", name="Proactive posts", exact=True)).to_be_visible()
    post = page.locator(f'section[id="{wid}"]')
    reload_until(page, post)
    expect(post).to_contain_text("7 inquiries about outage (usually 1)")
    expect(post.locator("time.expires")).to_have_text(re.compile(r"^expires in 5\dm \d\ds$"))
    text = post.get_by_label("Post text")
    expect(text).to_have_value("The site is down in Denver: we're on it.")
    text.fill("Denver: our site is down, a fix is coming within the hour.")
    post.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_have_text("Approved: the post went out.")
    expect(post).to_contain_text("Posted by Sam")
    expect(post.get_by_role("button", name="Approve")).to_have_count(0)
    edited = "Denver: our site is down, a fix is coming within the hour."
    assert tweets(stack).count(edited) == 1

    # A second approval (a stale tab, a double click) is refused in words; nothing more posted.
    csrf = page.locator("form.signout input[name=csrf]").get_attribute("value")
    again = page.request.post(
        f"/supervisor/proactive/{wid}/approve",
        form={"csrf": csrf or "", "text": "Posted twice?", "draft": ""},
        headers={"Origin": stack.url},
    )
    assert again.status == 409, again.text()
    assert "This draft was decided or expired already: nothing to decide" in again.text()
    assert tweets(stack).count(edited) == 1 and "Posted twice?" not in tweets(stack)
    page.context.close()


def test_a_supervisor_rejects_with_a_reason_and_a_stale_page_is_told_why(browser, stack):
    rejected = draft(stack, "austin", "The site is down in Austin.")
    stale = draft(stack, "boston", "The site is down in Boston.")
    page = signed_in(browser, stack, "tok-sam")
    page.goto("/supervisor/proactive")
    post = page.locator(f'section[id="{rejected}"]')
    reload_until(page, post)
    reload_until(page, page.locator(f'section[id="{stale}"]'))
    post.get_by_label("Reason").fill("Two posts about one router: not an outage")
    post.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_have_text("Rejected: nothing was posted.")
    expect(post).to_contain_text("Rejected by Sam: Two posts about one router: not an outage")

    # Someone else rejects the Boston draft from the CLI while this page still offers it.
    async def elsewhere() -> None:
        assert stack.client is not None
        await proactive.reject(stack.client, stale, "Bo", "duplicate")

    stack.run(elsewhere())
    page.locator(f'section[id="{stale}"]').get_by_role("button", name="Approve").click()
    alert = page.locator(f'section[id="{stale}"]').get_by_role("alert")
    expect(alert).to_have_text("This draft was decided or expired already: nothing to decide")
    expect(page.locator(f'section[id="{stale}"]')).to_contain_text("Rejected by Bo: duplicate")
    assert not [t for t in tweets(stack) if "Austin" in t or "Boston" in t]
    page.context.close()


def test_an_agent_cannot_open_the_proactive_page(browser, stack):
    page = signed_in(browser, stack, "tok-bo")
    expect(page.get_by_role("link", name="Proactive posts")).to_have_count(0)
    answer = page.goto("/supervisor/proactive")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("alert")).to_have_text("the agent role may not decide proactive posts")
    page.context.close()


def test_a_review_is_scored_disputed_by_its_agent_and_settled(browser, stack):
    wid = stack.post("1880000000000000909", "rate_me", "@acme the charger sparks, help")
    ana = {"Authorization": "Bearer tok-ana"}
    for action, body in [("reply", {"text": "Sorry! A new one is on its way."}),
                         ("resolve", {"code": "replaced"})]:  # fmt: skip
        done = httpx.post(f"{stack.url}/inquiries/{wid}/{action}", json=body, headers=ana)
        assert done.status_code == 200, done.text

    # The inquiry closes (after its short follow-up) and waits in the reviewer's queue.
    rita = signed_in(browser, stack, "tok-rita", landing="Review queue")
    reload_until(rita, rita.get_by_role("link", name=wid), seconds=40)
    rita.get_by_role("link", name=wid).click()
    expect(rita.get_by_role("heading", name=f"Review of {wid}")).to_be_visible()
    rita.get_by_label("empathy", exact=True).select_option("4")
    rita.get_by_role("button", name="Score").click()
    expect(rita.get_by_role("alert")).to_have_text("score every criterion: tone missing")
    expect(rita.get_by_label("empathy", exact=True)).to_have_value("4")  # kept for the retry
    csrf = rita.locator("form.signout input[name=csrf]").get_attribute("value")
    off = rita.request.post(
        f"/reviews/{wid}/score",
        form={"csrf": csrf or "", "score-empathy": "4", "score-tone": "9"},
        headers={"Origin": stack.url},
    )
    assert off.status == 409
    assert "tone=9 is outside the scale: score it from 1 to 3" in off.text()
    rita.get_by_label("tone", exact=True).select_option("2")
    rita.get_by_label("Note").fill("Kind, a little scripted.")
    rita.get_by_role("button", name="Score").click()
    expect(rita.get_by_role("status")).to_have_text("Scored.")
    expect(score_of(rita, "tone")).to_have_text("2")
    rita.context.close()

    # Ana finds it among her reviews and disputes it; Bo may not even read it.
    page = signed_in(browser, stack, "tok-ana")
    page.get_by_role("navigation").get_by_role("link", name="Reviews").click()
    expect(page.get_by_role("heading", name="Reviews of your inquiries")).to_be_visible()
    reload_until(page, page.get_by_role("link", name=wid))
    page.get_by_role("link", name=wid).click()
    expect(page.get_by_text("You may dispute this review until")).to_be_visible()
    page.get_by_label("Reason").fill("The script is the approved safety wording.")
    page.get_by_role("button", name="Dispute").click()
    expect(page.get_by_role("status")).to_have_text("Disputed: a supervisor settles it.")
    expect(page.get_by_role("button", name="Dispute")).to_have_count(0)
    page.get_by_role("link", name="the inquiry").click()  # and back, from the inquiry's page
    page.get_by_role("link", name="quality review").click()
    expect(page.get_by_role("heading", name=f"Review of {wid}")).to_be_visible()
    page.context.close()
    bo = signed_in(browser, stack, "tok-bo")
    answer = bo.goto(f"/reviews/{wid}")
    assert answer is not None and answer.status == 403
    bo.context.close()

    # Sam settles it from the disputed list, raising tone.
    sam = signed_in(browser, stack, "tok-sam")
    sam.goto("/reviews")
    disputed = sam.locator("table", has=sam.get_by_role("link", name=wid))
    reload_until(sam, sam.get_by_role("link", name=wid))
    expect(disputed).to_contain_text("disputed")
    sam.get_by_role("link", name=wid).click()
    sam.get_by_label("tone", exact=True).select_option("3")
    sam.get_by_label("Note").fill("Safety wording is required: tone stands at 3.")
    sam.get_by_role("button", name="Settle").click()
    expect(sam.get_by_role("status")).to_have_text("Settled.")
    expect(score_of(sam, "tone")).to_have_text("3")
    expect(score_of(sam, "empathy")).to_have_text("4")  # not changed: it stands
    events = sam.locator("table.events")
    for event, who in [("scored", "Rita"), ("disputed", "Ana"), ("settled", "Sam")]:
        expect(events.locator("tr", has_text=event)).to_contain_text(who)
    sam.context.close()
