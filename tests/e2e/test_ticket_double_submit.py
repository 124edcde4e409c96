"""Browser (issue 13): while a ticket write is in flight its submit button is disabled (htmx
``hx-disabled-elt``, no inline script), so a double click sends one request; and a resend of the
same form (same idempotency key) stores nothing more."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.e2e.test_ticket_replies import _ticket


def _notes(e2e_app, ticket_id: int, body: str) -> int:
    from kdcs.extensions import db
    from kdcs.models import EventKind, TicketEvent

    with e2e_app.app_context():
        return db.session.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.NOTE, TicketEvent.body == body))


def test_the_note_button_waits_for_its_request_and_a_resend_stores_once(login_as, e2e_app, zh):
    t = _ticket(e2e_app)
    page = login_as("agent1")
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")

    held = []  # the note's request, held in flight until the test lets it go
    page.route(re.compile(r".*/tickets/\d+/note$"), lambda route: held.append(route))
    page.fill("#note-body", "双击只存一次")
    key = page.locator("#note-key").input_value()
    button = page.locator("#act-note button[type=submit]")
    button.click()
    expect(button).to_be_disabled()
    button.click(force=True)  # the second click of a double click: a disabled button sends nothing
    page.wait_for_timeout(200)
    assert len(held) == 1
    request = held[0].request
    held[0].continue_()
    page.unroute(re.compile(r".*/tickets/\d+/note$"))
    expect(page.locator("#ticket-timeline")).to_contain_text("双击只存一次")
    expect(page.locator("#toasts")).to_contain_text(zh("Note added."))
    assert _notes(e2e_app, t["id"], "双击只存一次") == 1

    # A retry of the very same form (its answer was lost): answered as saved, not stored again.
    assert f"note-key={key}" in (request.post_data or "")
    again = page.request.post(request.url, data=request.post_data, headers={
        **{k: v for k, v in request.headers.items() if k.lower() in ("hx-request", "x-csrftoken", "content-type")}})
    assert again.status == 200
    assert _notes(e2e_app, t["id"], "双击只存一次") == 1

    # The same form sent again from the page (its key put back, as a retry would): answered with
    # the stored note, whose timeline line the page has already (<li id="ev-…">): shown once.
    timeline = page.locator("#ticket-timeline > li.ev")
    shown = timeline.count()
    assert page.locator("#ticket-timeline > li.ev", has_text="双击只存一次").count() == 1
    page.evaluate("key => { document.querySelector('#note-key').value = key; }", key)
    page.fill("#note-body", "双击只存一次")
    page.locator("#act-note button[type=submit]").click()
    expect(page.locator("#note-body")).to_have_value("")
    expect(page.locator("#note-key")).not_to_have_value(key)
    expect(timeline).to_have_count(shown)
    assert page.locator("#ticket-timeline > li.ev", has_text="双击只存一次").count() == 1
    assert _notes(e2e_app, t["id"], "双击只存一次") == 1
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"
