"""Browser: a note answers only its timeline line and a fresh note box (tickets/_note_added.html).
The rest of the page stays, and its forms' versions stay right: a status change and a reply sent
from the same page after notes are saved, not refused as a conflict (409)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_ticket_replies import _ticket


def test_notes_then_a_status_change_and_a_reply_from_the_same_page(login_as, e2e_app, zh):
    t = _ticket(e2e_app)
    page = login_as("agent1")
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")
    timeline = page.locator("#ticket-timeline > li.ev")
    before = timeline.count()
    version = page.locator("#ticket-version").input_value()
    for n, text in enumerate(("第一条备注", "第二条备注"), start=1):
        key = page.locator("#note-key").input_value()
        page.fill("#note-body", text)
        page.locator("#act-note button[type=submit]").click()
        expect(timeline.first).to_contain_text(text)
        expect(timeline).to_have_count(before + n)
        expect(page.locator("#note-body")).to_have_value("")
        expect(page.locator("#note-key")).not_to_have_value(key)  # a fresh form: a new idempotency key
        expect(page.locator("#act-note button[type=submit]")).to_be_enabled()
    assert page.locator("#ticket-version").input_value() == version
    assert page.locator("#status-version").input_value() == version

    page.select_option("#status-to_status", "in_progress")
    page.locator("#act-status button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(zh("Status changed to %(s)s.").split("%")[0])
    expect(page.locator("[data-status='409']")).to_have_count(0)
    expect(timeline).to_have_count(before + 3)

    page.fill("#reply-body", "已联系网点核实")
    page.locator("#act-reply button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(zh("Reply recorded."))
    expect(page.locator("[data-status='409']")).to_have_count(0)
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"
