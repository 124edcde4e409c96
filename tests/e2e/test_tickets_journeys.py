"""Ticket queues in a real browser (issue 4, "Browser tests").

* An agent filters the queue by category and the overdue window, searches a
  waybill, opens the ticket, changes its status and adds a note: toasts and
  the timeline update by htmx, never by a page reload; the filters live in the
  URL and the back button brings the previous filter state back.
* A lead checks three rows and bulk-assigns them to an agent of the team.
* Countdown badges tick without a reload.

Each test makes its own tickets through the e2e app's service layer (unique
waybill numbers), so it depends on no other test's side effects and no other
test depends on its own. The import journey is in test_tickets_import_journey.py.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

MARKER = "window.__kdcsNoReload"


# --------------------------------------------------------------------------- helpers


def _waybill(prefix: str) -> str:
    """A waybill number nobody else uses (10–20 letters/digits)."""
    return f"{prefix}{secrets.token_hex(4).upper()}"


def _make_tickets(e2e_app, *, agent: str, category: str, waybills: list[str], registered_ago: timedelta,
                  reply_due_in: timedelta | None = None) -> list[int]:
    """Tickets made by the admin through the service layer, for an outlet whose primary agent is ``agent``.

    ``reply_due_in`` moves the reply deadline relative to now (for a countdown that shows seconds).
    """
    from kdcs.extensions import db
    from kdcs.models import Direction, Outlet, Ticket, User, utcnow
    from kdcs.tickets import service

    with e2e_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        owner = db.session.scalar(select(User).where(User.username == agent))
        outlet = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id,
                                                         Outlet.is_active.is_(True)).order_by(Outlet.id)).first()
        reason = service.reasons_for(category)[0]
        ids = []
        for waybill in waybills:
            ticket = service.create_ticket(
                admin, outlet_id=outlet.id, direction=Direction.INBOUND, category=category,
                reason_id=reason.id, waybill_no=waybill, registered_at=utcnow() - registered_ago,
                customer_name="测试客户", customer_phone="13800138000", description="浏览器测试工单",
            )
            ids.append(ticket.id)
        if reply_due_in is not None:
            for ticket_id in ids:
                ticket = db.session.get(Ticket, ticket_id)
                ticket.reply_due_at = utcnow() + reply_due_in
                service.refresh_derived(ticket)
            db.session.commit()
        return ids


def _label(e2e_app, kind: str, code: str) -> str:
    """A ticket code's label as the zh_CN UI shows it (e.g. status in_progress → 处理中)."""
    from flask_babel import force_locale

    from kdcs.tickets import labels

    with e2e_app.test_request_context("/"), force_locale("zh_CN"):
        return str(labels.label(kind, code))


def _assert_not_reloaded(page, when: str) -> None:
    assert page.evaluate(MARKER) == "still-here", f"the page reloaded ({when})"


def _rows(page):
    return page.locator("#ticket-table tbody tr")


# --------------------------------------------------------------------------- 1. agent journey


def test_agent_filters_searches_and_works_a_ticket_without_reload(login_as, e2e_app, zh):
    from kdcs.extensions import db
    from kdcs.models import Category, EventKind, Ticket, TicketEvent, TicketStatus, utcnow

    waybill = _waybill("E2EAGENT")
    (ticket_id,) = _make_tickets(e2e_app, agent="agent1", category=Category.PROBLEM, waybills=[waybill],
                                 registered_ago=timedelta(days=10))
    with e2e_app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        due = ticket.due_at if ticket.due_at.tzinfo else ticket.due_at.replace(tzinfo=UTC)
        assert ticket.status == TicketStatus.NEW and due < utcnow(), "the test ticket should be overdue"

    category_label = _label(e2e_app, "category", Category.PROBLEM)
    page = login_as("agent1")
    page.goto("/tickets/")
    page.wait_for_load_state("networkidle")
    page.evaluate(f"{MARKER} = 'still-here'")

    # Category filter: the table is swapped, the URL says so, every row is of that category.
    page.select_option("#f-category", Category.PROBLEM)
    expect(page).to_have_url(re.compile(r"[?&]category=problem(&|$)"))
    expect(page.locator("#ticket-table .count.active")).to_contain_text(category_label)
    texts = _rows(page).all_inner_texts()
    assert texts and all(category_label in t for t in texts), texts
    _assert_not_reloaded(page, "category filter")

    # Overdue window on top: both filters in the URL, every row overdue.
    page.select_option("#f-window", "overdue")
    expect(page).to_have_url(re.compile(r"[?&]window=overdue(&|$)"))
    assert "category=problem" in page.url
    expect(page.locator("#ticket-table .count-total.active")).to_be_visible()
    rows = _rows(page)
    expect(rows.first.locator(".countdown.is-overdue")).to_be_visible()
    total = rows.count()
    assert total > 1, "the demo agent should have several overdue problem parcels"
    assert page.locator("#ticket-table tbody tr.row-overdue").count() == total
    assert all(category_label in t for t in rows.all_inner_texts())
    filtered_url = page.url
    _assert_not_reloaded(page, "overdue filter")

    # Waybill search (active search, pushed into the URL): exactly this ticket.
    page.fill("#ticket-q", waybill)
    expect(page).to_have_url(re.compile(rf"[?&]q={waybill}(&|$)"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a.waybill")).to_have_text(waybill)
    assert "category=problem" in page.url and "window=overdue" in page.url
    _assert_not_reloaded(page, "search")

    # Back: the previous filter state (category + overdue, no search) in URL, form and table.
    page.go_back()
    expect(page).to_have_url(filtered_url)
    expect(_rows(page)).to_have_count(total)
    expect(page.locator("#f-category")).to_have_value(Category.PROBLEM)
    expect(page.locator("#f-window")).to_have_value("overdue")
    expect(page.locator("#ticket-q")).to_have_value("")
    _assert_not_reloaded(page, "back button (htmx history restore)")

    # Forward again to the search result, then open the ticket (a real link).
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"[?&]q={waybill}(&|$)"))
    expect(_rows(page)).to_have_count(1)
    with page.expect_navigation():
        _rows(page).first.locator("a.waybill").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket_id}$"))
    expect(page.locator("#ticket-body .ticket-title .waybill")).to_have_text(waybill)
    page.wait_for_load_state("networkidle")
    page.evaluate(f"{MARKER} = 'still-here'")
    timeline = page.locator("#ticket-body ol.timeline > li")
    events_before = timeline.count()

    # Change the status: toast + status badge + a new timeline entry, by fragment.
    in_progress = _label(e2e_app, "status", TicketStatus.IN_PROGRESS)
    page.select_option("#status-to_status", TicketStatus.IN_PROGRESS)
    page.locator("#act-status button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(zh("Status changed to %(s)s.") % {"s": in_progress})
    expect(page.locator("#ticket-body .ticket-title .status")).to_have_text(in_progress)
    expect(timeline).to_have_count(events_before + 1)
    expect(timeline.first).to_contain_text(in_progress)
    _assert_not_reloaded(page, "status change")

    # Add an internal note: toast + the note on top of the timeline.
    note = f"已联系收件人，约定明天派送（{waybill}）"
    page.fill("#note-body", note)
    page.get_by_role("button", name=zh("Add note"), exact=True).click()
    expect(page.locator("#toasts")).to_contain_text(zh("Note added."))
    expect(timeline).to_have_count(events_before + 2)
    expect(timeline.first).to_contain_text(note)
    expect(page.locator("#note-body")).to_have_value("")
    _assert_not_reloaded(page, "note")
    assert f"/tickets/{ticket_id}" in page.url
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"

    # Written to the database, by agent1.
    with e2e_app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == TicketStatus.IN_PROGRESS
        events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                    .order_by(TicketEvent.id)).all()
        kinds = [(e.kind, e.actor.username if e.actor else None) for e in events]
        assert (EventKind.STATUS, "agent1") in kinds and (EventKind.NOTE, "agent1") in kinds, kinds
        assert any(e.kind == EventKind.NOTE and e.body == note for e in events)


# --------------------------------------------------------------------------- 2. lead bulk-assigns


def test_lead_bulk_assigns_three_tickets_to_an_agent_of_the_team(login_as, e2e_app, zh):
    from kdcs.extensions import db
    from kdcs.models import Category, EventKind, Ticket, TicketEvent, User

    prefix = _waybill("E2EBULK")[:13]
    waybills = [f"{prefix}{n}" for n in range(3)]
    ids = _make_tickets(e2e_app, agent="agent2", category=Category.WORK_ORDER, waybills=waybills,
                        registered_ago=timedelta(hours=1))
    with e2e_app.app_context():
        target = db.session.scalar(select(User).where(User.username == "agent3"))
        lead = db.session.scalar(select(User).where(User.username == "lead1"))
        assert target.team_id == lead.team_id
        target_id, target_name = target.id, target.display_name
        assert {db.session.get(Ticket, i).assignee.username for i in ids} == {"agent2"}

    page = login_as("lead1")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm "Apply to the checked tickets?"
    page.goto("/tickets/")
    page.wait_for_load_state("networkidle")
    page.evaluate(f"{MARKER} = 'still-here'")
    page.fill("#ticket-q", prefix)  # prefix search: just these three
    rows = _rows(page)
    expect(rows).to_have_count(3)
    for ticket_id in ids:
        page.locator(f"#ticket-{ticket_id} input[name=ids]").check()
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-assignee", str(target_id))
    page.get_by_role("button", name=zh("Apply to checked"), exact=True).click()

    result = page.locator("#bulk-result .bulk-result")
    expect(result).to_contain_text(zh("%(n)d of %(total)d tickets changed.") % {"n": 3, "total": 3})
    items = result.locator("li")
    expect(items).to_have_count(3)
    for waybill in waybills:
        item = result.locator("li", has_text=waybill)
        expect(item).to_have_class(re.compile(r"\bok\b"))
        expect(item).to_contain_text(zh("changed"))
    expect(result.locator("li.refused")).to_have_count(0)
    # The table refreshes itself (tickets-changed): the new assignee on each row.
    for ticket_id in ids:
        expect(page.locator(f"#ticket-{ticket_id}")).to_contain_text(target_name)
    _assert_not_reloaded(page, "bulk assign")
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"

    with e2e_app.app_context():
        for ticket_id in ids:
            ticket = db.session.get(Ticket, ticket_id)
            assert ticket.assignee_id == target_id
            events = db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.ASSIGN)).all()
            assert len(events) == 1, events
            assert events[0].actor.username == "lead1" and events[0].to_value == target_name


# --------------------------------------------------------------------------- 4. countdowns


def test_countdown_badges_tick_without_reload(login_as, e2e_app):
    from kdcs.models import Category

    waybill = _waybill("E2ETICK")
    (ticket_id,) = _make_tickets(e2e_app, agent="agent4", category=Category.MESSAGE, waybills=[waybill],
                                 registered_ago=timedelta(minutes=5), reply_due_in=timedelta(minutes=30))
    page = login_as("agent4")
    page.goto(f"/tickets/?q={waybill}")
    badge = page.locator(f"#ticket-{ticket_id} .countdown[data-due]")
    expect(badge).to_be_visible()
    page.evaluate(f"{MARKER} = 'still-here'")
    expect(badge).to_have_class(re.compile(r"\bis-soon\b"))  # due within the hour
    first = badge.inner_text()
    assert re.search(r"\d+秒", first), first  # under an hour: minutes and seconds
    page.wait_for_timeout(2_000)
    second = badge.inner_text()
    assert second != first, f"the countdown did not move in 2 s: {first!r}"
    assert re.search(r"\d+秒", second), second
    _assert_not_reloaded(page, "countdown")
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


def test_next_ticket_goes_on_in_the_queues_order(login_as, e2e_app, zh):
    """从最紧急的开始 opens the queue's top row, and 下一张工单 on a ticket page the one below it, without
    going back to the queue."""
    page = login_as("agent1")
    page.goto("/tickets/")
    rows = page.locator("#ticket-table tbody tr[id^='ticket-']")
    expect(rows.nth(1)).to_be_visible()
    first, second = (rows.nth(i).get_attribute("id").removeprefix("ticket-") for i in (0, 1))
    page.get_by_role("link", name=zh("Start with the most urgent")).click()  # the top row
    expect(page).to_have_url(re.compile(rf"/tickets/{first}$"))
    page.get_by_role("link", name=zh("Next ticket")).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{second}$"))
    expect(page.get_by_role("link", name=zh("Next ticket"))).to_be_visible()
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


def test_next_ticket_stays_in_the_view_the_agent_filtered(login_as, e2e_app, zh):
    """Filtered to 留言 in place (htmx), the agent opens the top row: 下一张工单 says it follows the
    filter and opens the next 留言, and 返回工单队列 comes back to the filtered queue."""
    page = login_as("agent1")
    page.goto("/tickets/")
    page.select_option("#f-category", "message")
    expect(page).to_have_url(re.compile(r"category=message"))
    rows = page.locator("#ticket-table tbody tr[id^='ticket-']")
    expect(rows.nth(1)).to_be_visible()
    first, second = (rows.nth(i).get_attribute("id").removeprefix("ticket-") for i in (0, 1))
    page.get_by_role("link", name=zh("Start with the most urgent")).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{first}$"))
    expect(page.locator("[data-testid=next-filtered]")).to_be_visible()
    page.get_by_role("link", name=zh("Next ticket")).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{second}$"))
    page.get_by_role("link", name=zh("Back to the queue")).click()
    expect(page).to_have_url(re.compile(r"/tickets/\?.*category=message"))
    expect(page.locator("#f-category")).to_have_value("message")
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


def test_an_agent_works_the_queue_from_the_keyboard(login_as, e2e_app, zh):
    """Keyboard shortcuts: J / K move between the queue's rows and Enter opens one; N starts with the top row
    and goes on to the next ticket, R and B put the cursor in
    the reply and the note boxes (letters typed there are text, Esc leaves the box), ? lists the page's
    shortcuts, Ctrl+Enter saves the note, F opens 新建跟进, Q goes back to the queue and / to its search."""
    page = login_as("agent1")
    page.goto("/tickets/")
    rows = page.locator("#ticket-table tbody tr[id^='ticket-']")
    expect(rows.nth(1)).to_be_visible()
    first, second = (rows.nth(i).get_attribute("id").removeprefix("ticket-") for i in (0, 1))
    page.keyboard.press("Escape")  # out of the search box the queue opens in
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")  # back on the first row
    expect(rows.nth(0).locator("a.waybill")).to_be_focused()
    expect(rows.nth(0)).to_have_class(re.compile("row-current"))
    page.keyboard.press("j")
    page.keyboard.press("Enter")  # opens the second row
    expect(page).to_have_url(re.compile(rf"/tickets/{second}$"))
    page.go_back()
    expect(rows.nth(1)).to_be_visible()
    page.wait_for_load_state()
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/tickets/{first}$"))
    page.wait_for_load_state()  # the keys need app.js, which runs once the page is parsed
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("nqrb")  # typed into the box, not taken as shortcuts
    expect(page.locator("#reply-body")).to_have_value("nqrb")
    expect(page).to_have_url(re.compile(rf"/tickets/{first}$"))
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    expect(page.locator("#note-body")).to_be_focused()
    note = f"键盘备注 {secrets.token_hex(3)}"
    page.keyboard.type(note)
    page.keyboard.press("Control+Enter")  # saves the note (htmx), the page stays
    expect(page.locator("#ticket-timeline")).to_contain_text(note)
    expect(page).to_have_url(re.compile(rf"/tickets/{first}$"))
    page.locator("#note-body").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("f")  # 新建跟进: unfolded, the cursor in its promise
    expect(page.locator("details.follow-up-new textarea")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    dialog = page.locator("dialog#shortcut-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(zh("Next ticket"))
    expect(dialog).to_contain_text(zh("Write the reply"))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/tickets/{second}$"))
    page.wait_for_load_state()
    page.keyboard.press("q")
    expect(page).to_have_url(re.compile(r"/tickets/(\?.*)?$"))
    page.wait_for_load_state()
    page.locator("#ticket-q").blur()
    page.keyboard.press("/")
    expect(page.locator("#ticket-q")).to_be_focused()
    page.locator("[data-shortcut-help]").click()  # the topbar's 快捷键 button: the same list
    expect(page.locator("dialog#shortcut-help")).to_contain_text(zh("Search the queue"))
    page.keyboard.press("Escape")
    page.goto("/leave/")
    expect(page.locator("[data-shortcut-help]")).to_be_hidden()  # no shortcuts on this page: no button
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"
