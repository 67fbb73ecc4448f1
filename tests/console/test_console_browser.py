"""The agents' console in a real browser: Playwright driving Debian's chromium against the whole
stack (dev server, worker, app, fake X), every part started here on free ports.

Skipped, saying how to enable them, where chromium or Playwright is missing: ``make test``
installs Debian's ``chromium`` when the machine lets it (as root with apt). Playwright's own
browser download is never used. ``CAREFLOW_SCREENSHOTS=docs/screenshots`` saves the README's
screenshots (the queue, an inquiry, the supervisor view).
"""

from __future__ import annotations

import re
import time

from tests.console.browser import playwright_or_skip, signed_in

expect = playwright_or_skip().expect


def test_an_agent_works_an_inquiry_from_arrival_to_close(browser, stack, shots):
    page = signed_in(browser, stack, "tok-ana")
    page.keyboard.press("j")  # keys work on an empty queue too

    # A customer tweets; the queue shows it without a reload, within two seconds or so.
    sent = time.monotonic()
    wid = stack.post("1880000000000000101", "lee_new", "@acme my parcel never came, order help?")
    row = page.get_by_role("link", name=re.compile("@lee_new"))
    expect(row).to_be_visible(timeout=4_000)
    arrived = time.monotonic() - sent
    print(f"the new inquiry appeared {arrived:.1f}s after its webhook")
    expect(page.locator("tr.row", has=row).locator("time.due")).to_have_text(
        re.compile(r"internal target in")
    )
    # The filters' counts follow the queue at once (not a few seconds later).
    expect(page.get_by_role("link", name="x (1)", exact=True)).to_be_visible(timeout=2_000)
    page.screenshot(path=str(shots / "queue.png"))

    # Keyboard: j selects the first row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(wid)))
    expect(page.get_by_role("heading", name=re.compile("@lee_new"))).to_be_visible()
    expect(page.get_by_text("my parcel never came")).to_be_visible()

    # A template, previewed for this inquiry, then sent.
    page.get_by_label("Template", exact=True).select_option("ack")
    reply = page.get_by_label("Reply", exact=True)
    expect(reply).to_have_value(re.compile(r"^Hi lee_new, thanks for reaching out"))
    expect(page.locator("#preview")).to_contain_text("Will be sent as one post on X")
    expect(page.locator("#preview")).to_contain_text("^Ana")
    page.screenshot(path=str(shots / "inquiry.png"), full_page=False)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    expect(page.locator("ol.messages")).to_contain_text("^Ana")

    # Personal data in a public reply is warned about before it goes.
    reply = page.get_by_label("Reply", exact=True)
    reply.fill("Please confirm your email is lee@example.com")
    expect(page.locator("#preview .warning")).to_contain_text("personal data (email)")

    # Resolve, then resolve again: the workflow's refusal, in words, on the page.
    page.get_by_label("Resolution code").fill("delivered")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="Resolved")).to_be_visible()
    page.get_by_label("Resolution code").fill("delivered")
    page.get_by_role("button", name="Resolve").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(re.compile("resolved|closed", re.IGNORECASE))
    assert "Traceback" not in page.content()

    # The follow-up runs its (short) course and the inquiry leaves the queue.
    page.goto("/")
    expect(page.get_by_role("link", name=re.compile("@lee_new"))).to_have_count(0, timeout=30_000)

    # Signed out, the console asks to sign in again.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.context.close()


def test_a_supervisor_assigns_and_sees_the_whole_floor(browser, stack, shots):
    wid = stack.post("1880000000000000202", "kim_waits", "@acme wrong size delivered, help")
    page = signed_in(browser, stack, "tok-sam")
    page.get_by_role("link", name=re.compile("@kim_waits")).click()
    page.get_by_label("Assignee").fill("Bo")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Assigned.", exact=True)).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="Bo has this inquiry assigned")
    ).to_be_visible()

    page.goto("/supervisor")
    expect(page.get_by_role("heading", name="Supervisor view")).to_be_visible()
    expect(page.get_by_role("heading", name="Each agent's load")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Bo")
    page.screenshot(path=str(shots / "supervisor.png"))

    # Bo sees that the inquiry is theirs; Ana sees that a colleague has it.
    ana = signed_in(browser, stack, "tok-ana")
    ana.goto(f"/inquiries/{wid}")
    expect(
        ana.get_by_role("status").filter(has_text="Bo has this inquiry assigned")
    ).to_be_visible()
    # Only supervisors have the supervisor view.
    ana.goto("/supervisor")
    expect(ana.get_by_role("alert")).to_contain_text("may not see the supervisor view")
    ana.context.close()
    page.context.close()


def test_an_auditor_reads_but_cannot_act(browser, stack):
    wid = stack.post("1880000000000000303", "audit_me", "@acme where is my refund")
    page = signed_in(browser, stack, "tok-audra")
    page.get_by_role("link", name=re.compile("@audit_me")).click()
    expect(page.get_by_text("where is my refund")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    expect(page.get_by_text("may not act on inquiries")).to_be_visible()
    # Even a hand-made form post with the session's own CSRF token is refused.
    answer = page.request.post(
        f"/console/act/resolve/{wid}",
        form={"code": "x", "csrf": "whatever"},
        headers={"Origin": stack.url},
    )
    assert answer.status == 403
    assert "may not act" in answer.text()
    page.context.close()


def test_forged_sessions_and_cross_site_posts_are_refused(browser, stack):
    wid = stack.post("1880000000000000404", "csrf_cat", "@acme my order is late")

    # A forged cookie is no session: the console asks to sign in.
    context = browser.new_context(base_url=stack.url)
    host = stack.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "careflow_session",
                "value": "eyJkIjoiMDAiLCJjIjoiYSIsImUiOjl9.forged",
                "domain": host,
                "path": "/",
            }
        ]
    )
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    forged = page.request.post(f"/console/act/ack/{wid}", form={}, headers={"Origin": stack.url})
    assert forged.status == 403
    context.close()

    # Signed in, but the post comes from another site, or without the CSRF token.
    page = signed_in(browser, stack, "tok-ana")
    csrf = page.locator("form.signout input[name=csrf]").get_attribute("value")
    assert csrf
    elsewhere = page.request.post(
        f"/console/act/ack/{wid}", form={"csrf": csrf}, headers={"Origin": "http://evil.example"}
    )
    assert elsewhere.status == 403 and "not sent from the console" in elsewhere.text()
    without = page.request.post(f"/console/act/ack/{wid}", form={}, headers={"Origin": stack.url})
    assert without.status == 403 and "CSRF" in without.text()

    # The API's bearer header works on console pages too; the API's JSON is unchanged.
    bearer = page.request.get(
        "/", headers={"Authorization": "Bearer tok-audra", "Accept": "text/html"}
    )
    assert bearer.status == 200 and "Open inquiries" in bearer.text()
    as_json = page.request.get(
        f"/inquiries/{wid}", headers={"Authorization": "Bearer tok-audra", "Accept": "*/*"}
    )
    assert as_json.status == 200 and as_json.json()["id"] == wid
    page.context.close()


def test_acknowledge_invite_escalate_resolve_and_reopen(browser, stack):
    wid = stack.post("1880000000000000505", "all_actions", "@acme the lid cracked, help")
    page = signed_in(browser, stack, "tok-ana")
    page.goto(f"/inquiries/{wid}")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status").filter(has_text="Acknowledged.")).to_be_visible()
    expect(page.locator("ol.messages")).to_contain_text("thanks for reaching out")

    page.get_by_role("button", name="Invite to DM").click()
    expect(page.get_by_role("status").filter(has_text="Invitation to DM sent.")).to_be_visible()
    expect(page.locator("ol.messages")).to_contain_text("we'd like to sort this out")

    page.get_by_label("Escalate to").select_option("supervisor")
    page.get_by_label("Escalation reason", exact=True).fill("customer asks for a manager")
    page.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("status").filter(has_text="Escalated.")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("supervisor by Ana (customer asks for a")

    # Reopen refuses an inquiry that is not resolved, in words; after resolving it works.
    page.get_by_label("Reopen reason code").fill("not_fixed")  # the form requires one
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_role("alert")).to_contain_text("only a resolved inquiry can be reopened")
    # The rule file lists the resolution codes: the form suggests them, the workflow holds to them.
    suggested = page.locator("datalist#codes-resolve option")
    expect(suggested).to_have_count(3)
    page.get_by_label("Resolution code").fill("fixed")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("alert")).to_contain_text("'fixed' is not a resolution code")
    page.get_by_label("Resolution code").fill("replaced")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="Resolved")).to_be_visible()
    page.get_by_label("Reopen reason code").fill("not_fixed")
    page.get_by_label("Why reopen", exact=True).fill("the replacement cracked too")
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_role("status").filter(has_text="Reopened.")).to_be_visible()
    expect(page.locator("section.facts")).not_to_contain_text("follow_up")
    # Who did what, with the reason code, on the timeline.
    reopened = page.locator("#history tr", has_text="the replacement cracked too")
    expect(reopened).to_contain_text("not_fixed")
    expect(reopened).to_contain_text(
        re.compile(r"Ana \(agent\) in the console, token [0-9a-f]{12}")
    )
    page.context.close()


def test_the_inquiry_page_updates_live_and_says_who_else_is_there(browser, stack):
    first = "1880000000000000606"
    wid = stack.post(first, "live_lou", "@acme my order number is wrong on the invoice")
    ana = signed_in(browser, stack, "tok-ana")
    ana.goto(f"/inquiries/{wid}")
    ana.get_by_label("Reply", exact=True).fill("Half-written answer")
    ana.evaluate("window.notReloaded = true")

    # Bo opens the same inquiry: each sees the other, Ana without reloading.
    bo = signed_in(browser, stack, "tok-bo")
    bo.goto(f"/inquiries/{wid}")
    expect(bo.get_by_role("status").filter(has_text="Ana is viewing this.")).to_be_visible()
    expect(ana.get_by_role("status").filter(has_text="Bo is viewing this.")).to_be_visible()

    # The customer writes again: Ana's page shows it within a poll or two.
    stack.reply("1880000000000000607", first, "live_lou", "@acme it says 4412 instead of 4421")
    expect(ana.locator("ol.messages")).to_contain_text("4412 instead of 4421", timeout=6_000)

    # Bo acts: Ana sees his acknowledgement and the assignment, still without a reload.
    bo.get_by_role("button", name="Assign").click()
    expect(bo.get_by_text("Assigned.", exact=True)).to_be_visible()
    expect(ana.get_by_role("status").filter(has_text="Bo has this inquiry assigned")).to_be_visible(
        timeout=6_000
    )
    bo.get_by_role("button", name="Acknowledge").click()
    expect(ana.locator("ol.messages")).to_contain_text("^Bo", timeout=6_000)
    assert ana.evaluate("window.notReloaded") is True
    expect(ana.get_by_label("Reply", exact=True)).to_have_value("Half-written answer")

    # Bo leaves: after a few missed polls Ana no longer sees him there.
    bo.context.close()
    expect(ana.get_by_role("status").filter(has_text="Bo is viewing this.")).to_have_count(
        0, timeout=15_000
    )
    ana.context.close()


def test_the_countdown_goes_from_on_track_to_warning_to_missed(browser, stack, shots):
    wid = stack.post("1880000000000000808", "tick_tock", "@acme stopwatch: my order is late")
    page = signed_in(browser, stack, "tok-ana")
    page.goto(f"/inquiries/{wid}")
    # The resolve clock warns at 4 s (10 s before its window), misses its internal target at
    # 8 s and its published window at 14 s.
    countdown = page.locator("table.clocks tr", has_text="resolve").locator("time.due")
    colours: dict[str, str] = {}
    for state, wait in [
        ("on-track", 3_000),
        ("warning", 8_000),
        ("internal-missed", 8_000),
        ("published-missed", 10_000),
    ]:
        expect(countdown).to_have_class(re.compile(rf"\b{state}\b"), timeout=wait)
        colours[state] = countdown.evaluate("el => getComputedStyle(el).backgroundColor")
        if state == "published-missed":
            expect(countdown).to_contain_text("published window missed")
        elif state == "internal-missed":
            expect(countdown).to_contain_text("published window in")
        else:
            expect(countdown).to_contain_text("internal target in")
    assert len(set(colours.values())) == 4, colours
    # The queue's row says the same, in the same colour.
    page.goto("/")
    row = page.locator("tr.row", has=page.get_by_role("link", name=re.compile("@tick_tock")))
    expect(row.locator("time.due")).to_have_class(re.compile(r"\bpublished-missed\b"))
    page.context.close()
